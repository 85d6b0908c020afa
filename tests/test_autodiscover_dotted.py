"""A dotted ``AUTODISCOVER_MODULES`` entry whose parent package fails to import."""

from __future__ import annotations

import sys
import textwrap
from typing import TYPE_CHECKING

import pytest
from django.apps import AppConfig
from django.test import override_settings

from signalkit import autodiscover as autodiscover_module
from signalkit.autodiscover import AutodiscoveryError, autodiscover

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def app_pkg(tmp_path: Path) -> Iterator[str]:
    name = "signalkit_test_missingdep_app"
    pkg = tmp_path / name
    (pkg / "signals").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    # The parent of "signals.handlers" needs a library that is not installed.
    (pkg / "signals" / "__init__.py").write_text("import signalkit_test_not_installed_library\n")
    (pkg / "signals" / "handlers.py").write_text(textwrap.dedent("HANDLED = True\n"))
    sys.path.insert(0, str(tmp_path))
    yield name
    sys.path.remove(str(tmp_path))
    for mod in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[mod]
    autodiscover_module.discovered.difference_update(
        {d for d in autodiscover_module.discovered if d.startswith(name)}
    )


@override_settings(SIGNALKIT={"AUTODISCOVER_MODULES": ["signals.handlers"]})
def test_missing_dependency_in_parent_of_dotted_module_is_reported(app_pkg: str) -> None:
    # (ModuleNotFoundError, a missing dependency, is not "the app has no such module".)
    with pytest.raises(AutodiscoveryError) as info:
        autodiscover([AppConfig.create(app_pkg)])
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    assert "signalkit_test_not_installed_library" in str(info.value)


def test_missing_dependency_in_plain_module_is_reported(app_pkg: str) -> None:
    # The same failure in a module that is not dotted.
    with pytest.raises(AutodiscoveryError):
        autodiscover([AppConfig.create(app_pkg)])


def discovery_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, raises: str) -> str:
    """The message of the error that autodiscovering app ``name``, whose
    ``signals.py`` runs ``raise <raises>``, ends with."""
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / name / "signals.py").write_text(f"raise {raises}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(AutodiscoveryError) as info:
            autodiscover([AppConfig.create(name)])
    finally:
        sys.modules.pop(name, None)
        sys.modules.pop(f"{name}.signals", None)
    return str(info.value)


def test_error_without_a_message_reads_as_a_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "signalkit_test_bare_error_app"
    assert discovery_error(tmp_path, monkeypatch, name, "ImportError") == (
        f"Importing '{name}.signals' (app {name!r}) failed during signalkit autodiscovery: "
        "ImportError. Fix the module, or skip this app's modules by adding its label "
        f"{name!r} to SIGNALKIT['AUTODISCOVER_EXCLUDE']."
    )


def test_error_ending_with_a_colon_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "signalkit_test_colon_error_app"
    message = discovery_error(tmp_path, monkeypatch, name, "ImportError('missing setting:')")
    assert "autodiscovery: ImportError: missing setting:. Fix the module" in message
