from __future__ import annotations

import importlib.util
import sys
from typing import TYPE_CHECKING, Any

import pytest
from django.apps import apps
from django.core.checks import run_checks
from django.core.signals import request_finished
from django.test import override_settings

import signalkit
from signalkit.conf import get_settings
from signalkit.dispatch import Signal
from signalkit.keycheck import close_keys as _close_keys
from signalkit.receiver_checks import (
    check_bookkeeping_toggles,
    check_receiver_toggles,
    check_receivers,
)
from tests.registryapp import custom, handlers
from tests.testapp.models import Article, Author

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


pytestmark = pytest.mark.usefixtures("test_signals_disconnected")

HANDLERS = "tests/registryapp/handlers.py"


@pytest.fixture
def signal() -> Iterator[Signal]:
    signal = Signal("checks_demo", module="tests.test_receiver_checks")
    yield signal
    del signal


RELOADED = """\
from django.core.signals import request_finished
import signalkit


@signalkit.receiver(request_finished, weak=False)
def on_finished(sender, **kwargs):
    pass


for uid in ("first", "second"):

    @signalkit.receiver(request_finished, weak=False, dispatch_uid=uid)
    def on_finished_too(sender, **kwargs):
        pass
"""


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


class CheckReceiversTests:
    def test_clean_project_has_no_warnings(self) -> None:
        assert check_receivers() == []

    def test_same_function_connected_twice_for_one_sender(self, signal: Signal) -> None:
        signal.connect(handlers.on_event, sender=Article)
        signal.connect(handlers.on_event, sender=Article, dispatch_uid="again")
        signal.connect(handlers.on_event, sender=Author)  # another sender: fine
        (message,) = check_receivers()
        assert message.id == "signalkit.W010"
        # The sender as listsignals shows it, and where the receiver is defined.
        assert message.msg == (
            f"tests.registryapp.handlers.on_event ({HANDLERS}:13) is connected twice to "
            "tests.test_receiver_checks.checks_demo for the sender testapp.Article, under "
            "different lookup keys (with and without a dispatch_uid, or two uids): it runs "
            "twice per signal."
        )

    def test_twice_names_any_sender_and_string_senders(self, signal: Signal) -> None:
        signal.connect(handlers.on_event)
        signal.connect(handlers.on_event, dispatch_uid="again")
        # A string sender, found back among the loaded modules' constants.
        signal.connect(handlers.on_event_async, sender=custom.SHOP_SENDER)
        signal.connect(handlers.on_event_async, sender=custom.SHOP_SENDER, dispatch_uid="again")
        first, second = check_receivers()
        assert first.msg.startswith(
            f"tests.registryapp.handlers.on_event ({HANDLERS}:13) is connected twice to "
            "tests.test_receiver_checks.checks_demo for any sender, under different lookup keys"
        )
        assert second.msg.startswith(
            f"tests.registryapp.handlers.on_event_async ({HANDLERS}:17) is connected twice "
            "to tests.test_receiver_checks.checks_demo for the sender shop.v2, under"
        )

    def test_twice_hint_says_how_to_connect_it_once(self, signal: Signal) -> None:
        signal.connect(handlers.on_event, sender=Article)
        signal.connect(handlers.on_event, sender=Article, dispatch_uid="again")
        (message,) = check_receivers()
        assert message.hint == (
            "Remove one of the two connections, or give both the same dispatch_uid (or "
            "neither one), so that Django keeps only the first. To run it both at once and "
            "with on_commit=True (or offload=True) on purpose, connect it once each way, "
            "each with a dispatch_uid of its own."
        )
        # Doing what it says clears the warning: with the same uid, Django ignores
        # the second connection.
        signal.disconnect(handlers.on_event, sender=Article)
        signal.connect(handlers.on_event, sender=Article, dispatch_uid="again")
        assert check_receivers() == []

    def test_connected_to_run_at_once_and_after_the_commit_is_deliberate(
        self, signal: Signal
    ) -> None:
        # As the receivers guide shows: each connection with its own dispatch_uid.
        signalkit.receiver(signal, dispatch_uid="demo.now")(handlers.on_event)
        signalkit.receiver(signal, on_commit=True, dispatch_uid="demo.after_commit")(
            handlers.on_event
        )
        assert check_receivers() == []
        # Twice after the commit, though, it runs twice.
        signalkit.receiver(signal, on_commit=True, dispatch_uid="demo.again")(handlers.on_event)
        (message,) = check_receivers()
        assert message.id == "signalkit.W010"
        assert message.msg.startswith(
            f"tests.registryapp.handlers.on_event ({HANDLERS}:13) is connected twice with "
            "on_commit=True to tests.test_receiver_checks.checks_demo for any sender, under"
        )

    def test_one_module_imported_under_two_names(self, signal: Signal) -> None:
        spec = importlib.util.spec_from_file_location("handlers_again", handlers.__file__)
        assert spec is not None
        assert spec.loader is not None
        again = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(again)
        signal.connect(handlers.on_event, sender=Article)
        signal.connect(again.on_event, sender=Article)
        (message,) = check_receivers()
        assert message.id == "signalkit.W013"
        assert message.msg.startswith(
            "tests.registryapp.handlers.on_event and handlers_again.on_event are the same "
            f"code ({handlers.__file__}:"
        )

    def test_a_module_reloaded_in_place_connects_again(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "reloaded_receivers.py").write_text(RELOADED)
        monkeypatch.syspath_prepend(tmp_path)
        module = importlib.import_module("reloaded_receivers")
        try:
            # The functions a loop (or a factory) defines share one code object.
            assert check_receivers() == []
            importlib.reload(module)
            (message,) = check_receivers()
            assert (message.id, message.msg) == (
                "signalkit.W014",
                "reloaded_receivers.on_finished is connected twice to "
                "django.core.signals.request_finished for the same sender by the same code "
                f"({tmp_path / 'reloaded_receivers.py'}:5) run twice: its module was "
                "executed again in place (importlib.reload()), which connected it again "
                "beside the function it replaced, so it runs twice per signal.",
            )
        finally:
            for receiver in list(request_finished.receivers):
                target = receiver[1]
                if getattr(target, "__module__", None) == "reloaded_receivers":
                    request_finished.disconnect(target, dispatch_uid=receiver[0][0])
            del sys.modules["reloaded_receivers"]
        assert check_receivers() == []

    def test_receivers_made_by_one_factory_are_not_imported_twice(self, signal: Signal) -> None:
        signal.connect(handlers.make_local_receiver(), weak=False)
        signal.connect(handlers.make_local_receiver(), weak=False)
        assert check_receivers() == []

    def test_weak_local_receiver(self, signal: Signal) -> None:
        local = handlers.make_local_receiver()
        signal.connect(local)
        signal.connect(handlers.make_local_receiver(), weak=False)  # strong: fine
        (message,) = check_receivers()
        assert message.id == "signalkit.W011"
        assert "make_local_receiver.<locals>.local is a weak receiver" in message.msg

    def test_bound_method_of_an_object_of_a_local_class_is_not_local(self, signal: Signal) -> None:
        # Its function lives as long as its class, which the object keeps alive:
        # the receiver lives exactly as long as the object, wherever its class is.
        handler = handlers.make_local_handler()
        signal.connect(handler.method)
        signalkit.receiver(signal, on_commit=True, dispatch_uid="later")(handler.method)
        assert check_receivers() == []

    def test_only_the_receivers_of_the_apps_checked(self, signal: Signal) -> None:
        # manage.py check LABEL: as Django's own model checks.
        local = handlers.make_local_receiver()
        signal.connect(local)
        assert check_receivers([apps.get_app_config("testapp")]) == []
        (message,) = check_receivers([apps.get_app_config("registryapp")])
        assert message.id == "signalkit.W011"

    def test_local_function_bound_at_module_level_is_kept_alive(self, signal: Signal) -> None:
        # A decorator's wrapper (no functools.wraps), which the module holds.
        signal.connect(handlers.counted_receiver)
        assert check_receivers() == []

    def test_a_wrapper_of_a_function_bound_at_module_level_is_not_kept_alive(
        self, signal: Signal
    ) -> None:
        # The module keeps the function, not the wrapper made at connect time
        # (alive only while Django's DEBUG argument cache holds it).
        wrapper = handlers.logged(handlers.made_receiver)
        signal.connect(wrapper)
        (message,) = check_receivers()
        assert message.id == "signalkit.W011"

    def test_async_callable_instance(self, signal: Signal) -> None:
        instance = handlers.AsyncCallableReceiver()
        signal.connect(instance)
        signal.connect(handlers.on_event_async)  # a coroutine function: fine
        (message,) = check_receivers()
        assert message.id == "signalkit.W012"
        assert message.msg.startswith("tests.registryapp.handlers.AsyncCallableReceiver is")

    def test_async_callable_instance_run_after_commit(self, signal: Signal) -> None:
        instance = handlers.AsyncCallableReceiver()
        signalkit.receiver(signal, on_commit=True)(instance)
        signalkit.receiver(signal, on_commit=True)(handlers.on_event_async)  # fine
        (message,) = check_receivers()
        assert message.id == "signalkit.W012"
        assert message.msg.startswith("tests.registryapp.handlers.AsyncCallableReceiver is")

    def test_djangos_own_receivers_are_not_checked(self) -> None:
        assert "signalkit.W010" not in ids(run_checks(tags=["signals"]))


class CheckReceiverTogglesTests:
    def test_no_toggles(self) -> None:
        assert check_receiver_toggles() == []

    @override_settings(SIGNALKIT={"RECEIVERS": {"tests.testapp.signals.remember_author": False}})
    def test_toggle_of_a_connected_receiver(self) -> None:
        assert check_receiver_toggles() == []

    @override_settings(SIGNALKIT={"RECEIVERS": {"tests.registryapp.handlers.on_event": False}})
    def test_toggle_of_a_receiver_of_a_plain_signal_held_by_a_class(self) -> None:
        custom.ShopEvents.changed.connect(handlers.on_event)
        try:
            assert check_receiver_toggles() == []
        finally:
            custom.ShopEvents.changed.disconnect(handlers.on_event)

    @override_settings(SIGNALKIT={"RECEIVERS": {"tests.testapp.signals.remember_autor": True}})
    def test_unknown_toggle_suggests_close_keys(self) -> None:
        (message,) = check_receiver_toggles()
        assert message.id == "signalkit.W002"
        assert message.msg == (
            "SIGNALKIT['RECEIVERS'] has the key 'tests.testapp.signals.remember_autor', "
            "which matches no connected receiver."
        )
        # The closest key comes first.
        assert str(message.hint).startswith("Did you mean 'tests.testapp.signals.remember_author'")

    @override_settings(SIGNALKIT={"RECEIVERS": {"tests.testapp.signals.send_welcome_mail": True}})
    def test_unknown_toggle_suggests_no_unrelated_key_of_its_module(self) -> None:
        # Compared whole, 'tests.testapp.signals.remember_author' looked close
        # through the prefix alone.
        (message,) = check_receiver_toggles()
        assert message.hint == "Run 'manage.py listsignals' to see the keys of connected receivers."

    @override_settings(SIGNALKIT={"RECEIVERS": {"tests.testap.signals.remember_author": True}})
    def test_unknown_toggle_with_a_misspelt_module_suggests_the_key(self) -> None:
        (message,) = check_receiver_toggles()
        assert str(message.hint).startswith("Did you mean 'tests.testapp.signals.remember_author'")

    @override_settings(SIGNALKIT={"RECEIVERS": {"tests.offloadapp.signals.remember_author": True}})
    def test_unknown_toggle_in_the_wrong_module_of_receivers_suggests_the_key(self) -> None:
        # (A receiver moved to another module; its old module still has others.)
        (message,) = check_receiver_toggles()
        assert message.hint == "Did you mean 'tests.testapp.signals.remember_author'?"

    @override_settings(SIGNALKIT={"RECEIVERS": {"nothing.like.it": False}})
    def test_unknown_toggle_without_close_match(self) -> None:
        (message,) = check_receiver_toggles()
        assert message.hint == "Run 'manage.py listsignals' to see the keys of connected receivers."

    @override_settings(SIGNALKIT={"RECEIVERS": {"remember_author": False}})
    def test_toggle_of_a_function_name_alone_suggests_its_key(self) -> None:
        (message,) = check_receiver_toggles()
        assert message.hint == "Did you mean 'tests.testapp.signals.remember_author'?"

    def test_toggle_into_a_module_never_imported_says_why(self) -> None:
        key = "tests.testapp.unimported.never_connected"
        cases: list[tuple[dict[str, object], str]] = [
            ({}, "SIGNALKIT['AUTODISCOVER_MODULES'] does not name it"),
            (
                {"AUTODISCOVER_EXCLUDE": ["testapp"]},
                "its app 'testapp' is in SIGNALKIT['AUTODISCOVER_EXCLUDE']",
            ),
            ({"AUTODISCOVER": False}, "SIGNALKIT['AUTODISCOVER'] is False"),
        ]
        for extra, why in cases:
            with override_settings(SIGNALKIT={"RECEIVERS": {key: False}, **extra}):
                (message,) = check_receiver_toggles()
            assert message.hint == (
                f"The module 'tests.testapp.unimported' is not imported ({why}), so none of "
                "its receivers is connected: import it, or remove the toggle."
            )
        assert "tests.testapp.unimported" not in sys.modules  # (the check imports nothing)

    def test_registered_with_the_signals_tag(self) -> None:
        with override_settings(SIGNALKIT={"RECEIVERS": {"nothing.like.it": False}}):
            assert "signalkit.W002" in ids(run_checks(tags=["signals"]))


class BookkeepingToggleTests:
    """signalkit's own bookkeeping receivers cannot be switched off (W003)."""

    def test_a_toggle_of_the_settings_reset_is_ignored_and_reported(self) -> None:
        off = {"RECEIVERS": {"signalkit.conf.reset_settings": False}}
        with override_settings(SIGNALKIT=off):
            assert get_settings().disabled_receivers == frozenset()
            with override_settings(SIGNALKIT={"AUTODISCOVER_EXCLUDE": ["testapp"]}):
                assert get_settings().autodiscover_exclude == {"testapp"}
            # Switched off, the reset would not have run: the inner settings
            # would have stayed in force.
            assert get_settings().autodiscover_exclude == frozenset()
            (message,) = check_bookkeeping_toggles()
            assert (message.id, message.msg, message.hint) == (
                "signalkit.W003",
                "SIGNALKIT['RECEIVERS'] switches off 'signalkit.conf.reset_settings', a "
                "receiver signalkit keeps its own state with; it stays on.",
                "Remove the key.",
            )
            assert "signalkit.W003" in ids(run_checks(tags=["signals"]))

    def test_a_key_matching_no_bookkeeping_receiver_gets_one_warning(self) -> None:
        toggles = {"signalkit.conf.reset_setings": False, "signalkit.gate.nothing": True}
        with override_settings(SIGNALKIT={"RECEIVERS": toggles}):
            messages = run_checks(tags=["signals"])
            assert [(m.id, m.msg) for m in messages if "reset_setings" in m.msg] == [
                (
                    "signalkit.W003",
                    "SIGNALKIT['RECEIVERS'] switches off 'signalkit.conf.reset_setings', "
                    "which matches no connected receiver and is under 'signalkit.conf.', "
                    "where signalkit's own bookkeeping receivers are: no toggle switches "
                    "those off, so it has no effect.",
                )
            ]
            # Switched on, it is a key like any other that matches nothing.
            assert [m.id for m in messages if "gate.nothing" in m.msg] == ["signalkit.W002"]

    def test_other_toggles_pass(self) -> None:
        toggles = {
            "signalkit.conf.reset_settings": True,
            "tests.testapp.signals.remember_author": False,
            "signalkit.profiles.receivers.create_profile": False,
        }
        with override_settings(SIGNALKIT={"RECEIVERS": toggles}):
            assert check_bookkeeping_toggles() == []
            assert get_settings().disabled_receivers == {
                "tests.testapp.signals.remember_author",
                "signalkit.profiles.receivers.create_profile",
            }


class CloseKeysFallbackTests:
    """W002's suggestions for a receiver moved to another module."""

    def test_a_receiver_moved_to_a_differently_named_package_is_suggested(self) -> None:
        connected = ["myproject.apps.billing.signals.send_invoice", "payments.receivers.on_paid"]
        key = "myproject.apps.billing.signals.on_paid"
        assert _close_keys(key, connected) == ["payments.receivers.on_paid"]

    def test_the_same_name_comes_before_a_merely_close_one(self) -> None:
        connected = [
            "shop.signals.audit",
            "shop.signal_handlers.send_email",
            "mail.hooks.send_mail",
        ]
        assert _close_keys("shop.signals.send_mail", connected)[0] == "mail.hooks.send_mail"

    def test_a_function_name_alone_is_compared_with_the_last_parts(self) -> None:
        connected = ["myproject.apps.blog.signals.notify_followers", "myproject.apps.mail.send"]
        assert _close_keys("notify_followers", connected) == [connected[0]]
