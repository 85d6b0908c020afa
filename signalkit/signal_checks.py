"""System check on the names of signals: ``signalkit.W015`` (``docs/checks.rst``).

A signal's short name (``order_paid``) finds it in ``manage.py listsignals``,
``registry.get()`` and ``mute_signals()``; a name that two signals share finds
neither, and those refuse it. Reported by a check rather than refused when the
second signal is defined: a module run again in place (``importlib.reload()``)
defines its signals anew under the same paths, which replaces them and is no
duplicate. The registry keys signals by path, and of several signals under one
path only those still bound in their module count.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.checks import Tags, Warning, register

from signalkit.dispatch import Signal
from signalkit.registry import live, registry
from signalkit.scan import name_in_module

if TYPE_CHECKING:
    from django.core.checks import CheckMessage

    from signalkit.infos import SignalInfo


@register(Tags.signals)
def check_signal_names(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W015: a :class:`signalkit.Signal` whose name another signal has."""
    named: dict[str, list[SignalInfo]] = defaultdict(list)
    for info in registry.signals():
        named[info.name].append(info)
    messages: list[CheckMessage] = []
    for name, infos in named.items():
        # Only names given with signalkit: two plain signals of other packages
        # bound to one variable name are not this project's to rename.
        if len(infos) < 2 or not any(isinstance(info.signal, Signal) for info in infos):
            continue
        by_path: dict[str, list[SignalInfo]] = defaultdict(list)
        for info in infos:
            by_path[info.path].append(info)
        found = [each for group in by_path.values() for each in live(group)]
        if len(found) < 2:
            continue
        if app_configs is not None and not any(
            isinstance(info.signal, Signal)
            and apps.get_containing_app_config(info.signal.module) in app_configs
            for info in found
        ):
            continue  # (manage.py check LABEL: only the signals those apps define)
        messages.append(_shared(name, found))
    return messages


def _module(info: SignalInfo) -> str:
    if isinstance(info.signal, Signal):
        return info.signal.module
    # (Django's own, or a plain signal named after what holds it in its module.)
    return info.path[: -len(info.name) - 1]


def _shared(name: str, infos: list[SignalInfo]) -> Warning:
    paths = [info.path for info in infos]
    described = []
    for info in infos:
        module = _module(info)
        where = f"module {module}"
        if paths.count(info.path) > 1 and info.signal is not None:
            # Created twice with one name in one module: what each is bound to.
            held = name_in_module(info.signal, module)
            where += f", bound to {held}" if held else ""
        described.append(f"{info.path} ({where})")
    listed = ", ".join(described[:-1]) + f" and {described[-1]}"
    return Warning(
        f"{len(infos)} signals are named {name!r}: {listed}. "
        f"'manage.py listsignals {name}', registry.get({name!r}) and "
        f"mute_signals({name!r}) cannot tell them apart, and refuse the name.",
        hint="Give each signal a name of its own: the name given to define_signal() or "
        "Signal(), else the variable that holds it. Until then, name them by their "
        "dotted paths.",
        id="signalkit.W015",
    )
