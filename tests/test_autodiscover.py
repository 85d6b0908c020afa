from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.apps import AppConfig, apps
from django.db.models import Model
from django.test import override_settings
from django.utils import autoreload

import tests.discovery
from signalkit import autodiscover as autodiscover_module
from signalkit.autodiscover import AutodiscoveryError, autodiscover
from tests.discovery import fail_halfway, imports, later_apps, pinged, pinged_later
from tests.testapp.models import Author
from tests.testapp.signals import seen_authors

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def fresh() -> Iterator[None]:
    """Forget the discovery of the test-only apps, before and after each test."""

    def forget() -> None:
        imports.clear()
        fail_halfway.clear()
        pinged.receivers.clear()
        pinged.sender_receivers_cache.clear()
        pinged_later.receivers.clear()
        pinged_later.sender_receivers_cache.clear()
        later_apps._pending_operations.clear()
        later_apps.all_models.clear()
        later_apps.clear_cache()
        for name in [name for name in sys.modules if name.startswith("tests.discovery.")]:
            if name.count(".") == 3:
                del sys.modules[name]
                # (Else "from package import module" takes the old module.)
                package, _, module = name.rpartition(".")
                vars(sys.modules[package]).pop(module, None)
        autodiscover_module.discovered.difference_update(
            {name for name in autodiscover_module.discovered if name.startswith("tests.discovery.")}
        )

    forget()
    yield
    forget()


def configs(*names: str) -> list[AppConfig]:
    return [AppConfig.create(f"tests.discovery.{name}") for name in names]


@pytest.mark.usefixtures("fresh")
class AutodiscoverTests:
    def test_imports_signals_module_of_each_app(self) -> None:
        assert autodiscover(configs("goodapp", "plainapp")) == ["tests.discovery.goodapp.signals"]
        assert imports == ["tests.discovery.goodapp.signals"]

    def test_imports_once_per_process_even_if_module_cache_is_cleared(self) -> None:
        autodiscover(configs("goodapp"))
        del sys.modules["tests.discovery.goodapp.signals"]
        assert autodiscover(configs("goodapp")) == []
        assert imports == ["tests.discovery.goodapp.signals"]

    @override_settings(SIGNALKIT={"AUTODISCOVER_MODULES": ["signals.handlers"]})
    def test_error_inside_the_parent_of_a_dotted_module_names_the_app(self) -> None:
        with pytest.raises(AutodiscoveryError) as info:
            autodiscover(configs("brokenapp"))
        assert str(info.value) == (
            "Importing 'tests.discovery.brokenapp.signals.handlers' (app 'brokenapp') failed "
            "during signalkit autodiscovery: ZeroDivisionError: broken on purpose. Fix the "
            "module, or skip this app's modules by adding its label 'brokenapp' to "
            "SIGNALKIT['AUTODISCOVER_EXCLUDE']."
        )
        assert isinstance(info.value.__cause__, ZeroDivisionError)

    def test_error_inside_module_propagates_with_its_name(self) -> None:
        with pytest.raises(AutodiscoveryError) as info:
            autodiscover(configs("brokenapp"))
        assert str(info.value) == (
            "Importing 'tests.discovery.brokenapp.signals' (app 'brokenapp') failed during "
            "signalkit autodiscovery: ZeroDivisionError: broken on purpose. Fix the module, or "
            "skip this app's modules by adding its label 'brokenapp' to "
            "SIGNALKIT['AUTODISCOVER_EXCLUDE']."
        )
        assert isinstance(info.value.__cause__, ZeroDivisionError)

    def test_error_of_an_app_excluded_by_its_path_says_to_use_the_label(self) -> None:
        # The crash comes before the check (W001) that would tell: an app excluded
        # as INSTALLED_APPS names it is not excluded, and the error must say why.
        for written in (
            "tests.discovery.brokenapp",  # as INSTALLED_APPS gives it
            "tests.discovery.brokenapp.apps.BrokenConfig",
            "brokenapp",  # its package
        ):
            with override_settings(SIGNALKIT={"AUTODISCOVER_EXCLUDE": [written]}):
                with pytest.raises(AutodiscoveryError) as info:
                    autodiscover([AppConfig.create("tests.discovery.brokenapp.apps.BrokenConfig")])
                assert str(info.value).endswith(
                    "ZeroDivisionError: broken on purpose. SIGNALKIT['AUTODISCOVER_EXCLUDE'] "
                    f"names {written!r}, which is not an app label: to skip this app's modules, "
                    "write its label 'broken' instead."
                )

    def test_runserver_watches_the_broken_module(self) -> None:
        # Django's autoreloader watches the file an error names ("filename", else
        # the last frame of its traceback): runserver restarts once it is fixed.
        broken = str(Path(tests.discovery.__file__).parent / "brokenapp" / "signals.py")
        watched: list[str] = autoreload._error_files  # type: ignore[attr-defined]
        try:
            with pytest.raises(AutodiscoveryError) as info:
                autoreload.check_errors(autodiscover)(configs("brokenapp"))
            assert info.value.filename == broken
            assert broken in watched
        finally:
            watched.clear()

    def test_failed_module_is_tried_again_next_time(self) -> None:
        for _ in range(2):
            with pytest.raises(AutodiscoveryError):
                autodiscover(configs("brokenapp"))

    @override_settings(SIGNALKIT={"AUTODISCOVER": False})
    def test_switched_off(self) -> None:
        assert autodiscover(configs("goodapp")) == []
        assert imports == []

    @override_settings(SIGNALKIT={"AUTODISCOVER_EXCLUDE": ["brokenapp"]})
    def test_excluded_labels_are_skipped(self) -> None:
        assert autodiscover(configs("brokenapp", "goodapp")) == ["tests.discovery.goodapp.signals"]

    def test_an_invalid_exclude_still_excludes_the_labels_it_gives(self) -> None:
        # Discovery runs before any check could report the value: falling back
        # to "exclude nothing" imported the very module the project excluded.
        for exclude in ({"brokenapp"}, "brokenapp", ["brokenapp", 3]):
            with override_settings(SIGNALKIT={"AUTODISCOVER_EXCLUDE": exclude}):
                assert autodiscover(configs("brokenapp")) == []

    @override_settings(SIGNALKIT={"AUTODISCOVER_MODULES": ["handlers", "not a module"]})
    def test_the_valid_module_names_beside_an_invalid_one_apply(self) -> None:
        assert autodiscover(configs("goodapp")) == ["tests.discovery.goodapp.handlers"]

    @override_settings(SIGNALKIT={"AUTODISCOVER_MODULES": ["signals", "handlers"]})
    def test_every_configured_module_name(self) -> None:
        assert autodiscover(configs("goodapp")) == [
            "tests.discovery.goodapp.signals",
            "tests.discovery.goodapp.handlers",
        ]

    def test_app_without_the_module_is_skipped(self) -> None:
        assert autodiscover(configs("plainapp")) == []


HALF = "tests.discovery.halfapp.signals"
LATER = "tests.discovery.laterapp.signals"


def pings() -> list[str]:
    """The receivers of ``pinged`` that run when it is sent, one line per call."""
    imports.clear()
    pinged.send(sender=None)
    return sorted(imports)


# What ``pinged`` runs once halfapp's modules were each imported once.
EVERY_PING = [
    "helpers.on_helper_ping",
    "nested.on_nested_ping",
    "signals.Instantiated",
    "signals.Listener.on_ping",
    "signals.Strong",
    "signals.on_ping",
    "signals.partial",
]


def register_later() -> type[Model]:
    """Register the model that halfapp connects a receiver for by its label."""
    meta = type("Meta", (), {"app_label": "halfapp", "apps": later_apps})
    return type("Later", (Model,), {"__module__": "tests.discovery.halfapp", "Meta": meta})


@pytest.mark.usefixtures("fresh")
class FailedImportTests:
    """A module that raises halfway keeps no receiver its next import connects again."""

    def test_receivers_defined_in_the_failed_module_are_disconnected(self) -> None:
        fail_halfway.add(HALF)
        with pytest.raises(AutodiscoveryError) as info:
            autodiscover(configs("halfapp"))
        assert str(info.value).startswith(
            "Importing 'tests.discovery.halfapp.signals' (app 'halfapp') failed during "
            "signalkit autodiscovery: ZeroDivisionError: broken halfway. "
        )
        assert isinstance(info.value.__cause__, ZeroDivisionError)
        # (What a module it imported connected stays connected: that module
        # finished, and is not imported again. What it connected itself goes,
        # a function of such a module included: its next import connects it.)
        assert pings() == ["nested.on_nested_ping"]

    def test_importing_again_connects_each_receiver_once(self) -> None:
        fail_halfway.add(HALF)
        errors = []  # held, as runserver's autoreloader holds the last one
        for _ in range(2):
            with pytest.raises(AutodiscoveryError) as info:
                autodiscover(configs("halfapp"))
            errors.append(info.value)
        fail_halfway.clear()
        assert autodiscover(configs("halfapp")) == [HALF]
        assert pings() == EVERY_PING

    def test_a_fixed_module_imported_by_hand_connects_each_receiver_once(self) -> None:
        fail_halfway.add(HALF)
        with pytest.raises(AutodiscoveryError) as info:
            autodiscover(configs("halfapp"))
        fail_halfway.clear()
        import_module(HALF)
        assert pings() == EVERY_PING
        assert info.value.__cause__ is not None

    def test_a_module_it_imports_that_failed_halfway_is_disconnected_too(self) -> None:
        fail_halfway.add("tests.discovery.halfapp.nested")
        with pytest.raises(AutodiscoveryError) as info:
            autodiscover(configs("halfapp"))
        assert str(info.value.__cause__) == "nested module broken halfway"
        assert pings() == []
        fail_halfway.clear()
        assert autodiscover(configs("halfapp")) == [HALF]
        assert pings() == EVERY_PING

    def test_a_wrapper_it_made_of_a_function_of_another_module_is_disconnected(self) -> None:
        # (A partial of helpers.say: a receiver of the failed module, though the
        # function it calls is defined in a module that imported fine.)
        fail_halfway.add(HALF)
        with pytest.raises(AutodiscoveryError) as info:
            autodiscover(configs("halfapp"))
        assert "signals.partial" not in pings()
        fail_halfway.clear()
        assert autodiscover(configs("halfapp")) == [HALF]
        assert pings().count("signals.partial") == 1
        assert info.value.__cause__ is not None

    def test_a_connection_waiting_for_its_model_is_dropped(self) -> None:
        fail_halfway.add(HALF)
        errors = []  # held, as runserver's autoreloader holds the last one
        for _ in range(2):
            with pytest.raises(AutodiscoveryError) as info:
                autodiscover(configs("halfapp"))
            errors.append(info.value)
        fail_halfway.clear()
        assert autodiscover(configs("halfapp")) == [HALF]
        later = register_later()
        imports.clear()
        pinged_later.send(sender=later)
        assert imports == ["signals.on_later"]

    def test_a_connection_made_for_a_registered_model_by_its_label_is_disconnected(
        self,
    ) -> None:
        later = register_later()
        fail_halfway.add(HALF)
        with pytest.raises(AutodiscoveryError) as info:
            autodiscover(configs("halfapp"))
        pinged_later.send(sender=later)
        assert "signals.on_later" not in imports
        assert info.value.__cause__ is not None

    def test_connections_made_as_it_registers_a_model_are_undone_if_it_asked_for_them(
        self,
    ) -> None:
        # laterapp connects a receiver by the label of a model that it then
        # registers: Django makes that connection then, and the one halfapp
        # (discovered before, fine) made waiting for the same model.
        fail_halfway.add(LATER)
        with pytest.raises(AutodiscoveryError) as info:
            autodiscover(configs("halfapp", "laterapp"))
        assert str(info.value.__cause__) == "broken after registering Later"
        imports.clear()
        pinged_later.send(sender=later_apps.get_registered_model("halfapp", "later"))
        assert imports == ["signals.on_later"]


@pytest.mark.django_db
class InstalledAppDiscoveryTests:
    def test_testapp_signals_connected_without_any_import_in_ready(self) -> None:
        seen_authors.clear()
        Author.objects.create(name="Ada")
        assert seen_authors == ["Ada"]

    def test_ready_running_again_connects_nothing_twice(self) -> None:
        apps.get_app_config("signalkit").ready()
        apps.get_app_config("signalkit").ready()
        seen_authors.clear()
        Author.objects.create(name="Grace")
        assert seen_authors == ["Grace"]
        assert "tests.testapp.signals" in autodiscover_module.discovered
