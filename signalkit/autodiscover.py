"""Import ``<app>.signals`` (and any configured module) for every installed app."""

from __future__ import annotations

import traceback
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from django.apps import AppConfig, apps
from django.utils.module_loading import module_has_submodule

from signalkit.conf import get_settings
from signalkit.labels import app_names
from signalkit.recording import recording
from signalkit.unwind import disconnect_failed_modules

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import ModuleType

#: Dotted names already imported by autodiscovery in this process.
discovered: set[str] = set()


class AutodiscoveryError(Exception):
    """A module found by autodiscovery raised while being imported.

    ``filename`` is the file the original error points at (where it was raised,
    or the file of a ``SyntaxError``): Django's autoreloader watches the file an
    error names by that attribute, so ``runserver`` reloads once it is fixed.
    """

    filename: str | None = None


def autodiscover(app_configs: Iterable[AppConfig] | None = None) -> list[str]:
    """Import the configured modules of every installed app, once per process.

    Returns the dotted names imported by this call. Apps without the module
    are skipped; an exception raised inside a module propagates as
    :class:`AutodiscoveryError` naming the module, chained to the original,
    once the connections that the modules that failed made are undone.
    """
    conf = get_settings()
    if not conf.autodiscover:
        return []
    imported = []
    with recording() as made:
        for config in apps.get_app_configs() if app_configs is None else app_configs:
            if config.label in conf.autodiscover_exclude or config.module is None:
                continue
            for module_name in conf.autodiscover_modules:
                dotted = f"{config.name}.{module_name}"
                if dotted in discovered:
                    continue
                try:
                    if not _has_module(config.module, module_name):
                        continue
                    import_module(dotted)
                except Exception as exc:
                    # Its next import (autodiscovery runs again, or the module is
                    # fixed and imported by hand) connects them again: twice.
                    disconnect_failed_modules(exc, made)
                    exc.add_note(f"(raised while signalkit autodiscovered {dotted!r})")
                    error = AutodiscoveryError(
                        f"Importing {dotted!r} (app {config.label!r}) failed during signalkit "
                        f"autodiscovery: {_described(exc)} "
                        f"{way_out(config, conf.autodiscover_exclude)}"
                    )
                    error.filename = _error_file(exc)
                    raise error from exc
                discovered.add(dotted)
                imported.append(dotted)
    return imported


def way_out(config: AppConfig, exclude: frozenset[str]) -> str:
    """What to do about a module of ``config`` that cannot be imported: fix it,
    or exclude the app by its label. Said outright when the exclusions name the
    app otherwise (its module path, its package, its ``AppConfig`` path): the
    crash comes before the system check (``W001``) that would tell."""
    meant = set(app_names(config)) - set(apps.app_configs)  # (another app's label is that app)
    written = next((name for name in sorted(exclude) if name in meant), None)
    if written is not None:
        return (
            f"SIGNALKIT['AUTODISCOVER_EXCLUDE'] names {written!r}, which is not an app label: "
            f"to skip this app's modules, write its label {config.label!r} instead."
        )
    return (
        "Fix the module, or skip this app's modules by adding its label "
        f"{config.label!r} to SIGNALKIT['AUTODISCOVER_EXCLUDE']."
    )


def _described(exc: Exception) -> str:
    """``exc`` as one sentence: ``"ZeroDivisionError: broken on purpose."``."""
    message = str(exc).strip()
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _error_file(exc: Exception) -> str | None:
    """The file Django's autoreloader would watch for ``exc`` raised alone."""
    filename = getattr(exc, "filename", None)  # a SyntaxError's file, as Django reads it
    if isinstance(filename, str):
        return filename
    frames = traceback.extract_tb(exc.__traceback__)  # else where it was raised
    return frames[-1].filename if frames else None


def _has_module(package: ModuleType, module_name: str) -> bool:
    """Whether ``package`` has the (dotted) submodule ``module_name``.

    Each parent of a dotted name is imported first, so that an error it raises
    is raised here: Django's ``module_has_submodule`` takes a parent's
    ``ModuleNotFoundError`` (a dependency missing) for "no such module".
    """
    *parents, last = module_name.split(".")
    for part in parents:
        if not module_has_submodule(package, part):
            return False
        package = import_module(f"{package.__name__}.{part}")
    return module_has_submodule(package, last)
