"""The public API refuses bad input with an error that names it, at the call."""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.db.models.signals import post_save
from django.dispatch import Signal
from django.test import TestCase
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy

import signalkit
import signalkit.audit as audit
from signalkit.admin import audit_history_url
from signalkit.models import AuditEvent
from signalkit.registry import registry
from tests.audit_utils import audited
from tests.auditapp.models import Account, Seat
from tests.testapp.models import Author

pytestmark = pytest.mark.usefixtures("test_signals_disconnected")


def on_save(sender: Any, **kwargs: Any) -> None:
    pass


class ReceiverTests:
    @pytest.mark.parametrize("given", ["post_save", None, [post_save, "pre_save"], {post_save}])
    def test_what_is_not_a_signal_is_refused(self, given: Any) -> None:
        with pytest.raises(TypeError, match=r"^receiver\(\) "):
            signalkit.receiver(given, sender=Author)(on_save)

    def test_an_empty_list_connects_nothing_as_with_django(self) -> None:
        # (A drop-in: Django's receiver([]) is a valid no-op, say for a list of
        # signals built from settings.)
        assert signalkit.receiver([], sender=Author)(on_save) is on_save
        assert not [r for r in registry.receivers() if r.qualname == "on_save"]

    def test_generator_receiver_consumed_by_the_sender_works_as_with_django(self) -> None:
        signal = Signal()

        def items(sender: Any, **kwargs: Any) -> Any:
            yield from ("a", "b")

        signalkit.receiver(signal)(items)
        responses: Any = signal.send(None)
        assert [item for _, gen in responses for item in gen] == ["a", "b"]

    def test_a_duck_typed_signal_of_another_library_connects(self) -> None:
        class OtherSignal:  # connect() and what signalkit reads, no Django base
            def __init__(self) -> None:
                self.receivers: list[Any] = []
                self.sender_receivers_cache: dict[Any, Any] = {}
                self.connected: list[Any] = []

            def connect(self, receiver: Any, **kwargs: Any) -> None:
                self.connected.append(receiver)

        other = OtherSignal()
        signalkit.receiver(other)(on_save)  # type: ignore[arg-type]
        assert other.connected == [on_save]

    def test_a_duck_typed_connect_gets_only_the_arguments_given(self) -> None:
        class Hook:  # another library's signal: connect(receiver[, sender]) only
            def __init__(self) -> None:
                self.connected: list[Any] = []

            def connect(self, receiver: Any, sender: Any = None) -> None:
                self.connected.append((receiver, sender))

        hook = Hook()
        signalkit.receiver(hook)(on_save)  # type: ignore[arg-type]
        signalkit.receiver(hook, sender=Author)(on_save)  # type: ignore[arg-type]
        signalkit.receiver(hook, on_commit=True)(on_save)  # type: ignore[arg-type]
        assert hook.connected[:2] == [(on_save, None), (on_save, Author)]
        wrapper = hook.connected[2][0]
        assert wrapper.__wrapped__ is on_save
        assert wrapper.on_commit
        with pytest.raises(TypeError, match="dispatch_uid"):
            signalkit.receiver(hook, dispatch_uid="uid")(on_save)  # type: ignore[arg-type]

    def test_a_django_signal_gets_every_argument_as_before(self) -> None:
        class Recording(Signal):
            def connect(self, receiver: Any, **kwargs: Any) -> None:  # type: ignore[override]
                self.calls = [*getattr(self, "calls", []), kwargs]
                super().connect(receiver, **kwargs)

        plain, deferred = Recording(), Recording()
        signalkit.receiver(plain)(on_save)
        signalkit.receiver(deferred, on_commit=True)(on_save)
        assert plain.calls == [{"sender": None, "weak": True, "dispatch_uid": None}]
        assert deferred.calls[0]["dispatch_uid"] is not None  # (its function's lookup key)
        assert deferred.disconnect(on_save)

    def test_staticmethod_object_is_refused_with_a_hint(self) -> None:
        with pytest.raises(TypeError, match="put @staticmethod above @receiver"):
            signalkit.receiver(post_save, sender=Author)(staticmethod(on_save))


class SignalTests:
    def test_name_that_is_not_a_string_is_refused(self) -> None:
        with pytest.raises(TypeError, match=r"args=\['order'\]"):
            signalkit.Signal(["order"])  # type: ignore[arg-type]
        # (Kept, it broke the close-match suggestions of every later lookup.)
        with pytest.raises(LookupError, match="Did you mean 'post_save'"):
            registry.get("post_sav")

    def test_a_reloaded_module_s_signal_is_found_by_its_path(self) -> None:
        # The replaced signal lives on (an importer holds it): not "several
        # signals created with the same name".
        module = ModuleType("tests.bad_input_reloaded")
        sys.modules[module.__name__] = module
        source = "import signalkit\npaid = signalkit.Signal('paid')\nshipped = signalkit.Signal()\n"
        try:
            exec(source, module.__dict__)
            old = (module.paid, module.shipped)
            assert registry.get("tests.bad_input_reloaded.shipped").signal is module.shipped
            exec(source, module.__dict__)  # as importlib.reload() does
            assert registry.get("tests.bad_input_reloaded.paid").signal is module.paid
            assert registry.get("tests.bad_input_reloaded.shipped").signal is module.shipped
            assert module.paid is not old[0]
        finally:
            del sys.modules[module.__name__]
            registry.clear_cache()  # (rescanned only when sys.modules grows)

    def test_two_signals_with_one_path_are_not_confused(self) -> None:
        module = ModuleType("tests.bad_input_signals")
        sys.modules[module.__name__] = module
        try:
            exec(  # a copy-paste slip: two signals named "paid"
                "import signalkit\n"
                "paid = signalkit.define_signal('paid', doc='Paid.')\n"
                "refunded = signalkit.define_signal('paid', doc='Refunded.')\n",
                module.__dict__,
            )
            with pytest.raises(LookupError, match="path of several signals"):
                registry.get("tests.bad_input_signals.paid")
        finally:
            del sys.modules[module.__name__]


class RegistryTests:
    @pytest.mark.parametrize("given", [None, 5, post_save])
    def test_get_takes_a_string(self, given: Any) -> None:
        with pytest.raises(TypeError, match="name or dotted path"):
            registry.get(given)

    def test_receivers_arguments_are_checked(self) -> None:
        with pytest.raises(TypeError, match="signal must be a Signal"):
            registry.receivers([post_save])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="app must be an app label"):
            registry.receivers(app=5)  # type: ignore[arg-type]


@audited()
class AuditTests(TestCase):
    def test_record_refuses_changes_that_are_not_a_dict(self) -> None:
        account = Account.objects.create(name="acme")
        with pytest.raises(TypeError, match="changes must be a dict"):
            audit.record("imported", account, changes=["rows", 3])  # type: ignore[arg-type]
        # The object's history page still works.
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        assert self.client.get(audit_history_url(account)).status_code == 200

    def test_record_refuses_an_object_without_a_primary_key(self) -> None:
        # Its event would name no object, and no history() could find it.
        for unsaved in (Account(name="acme"), Seat(hall="main")):
            with pytest.raises(ValueError, match=r"needs a saved object \((Account|Seat) has no"):
                audit.record("exported", unsaved)
            assert not audit.history(unsaved).exists()
        assert not AuditEvent.objects.exists()
        # Saved, the same object is recorded.
        account = Account.objects.create(name="acme")
        assert audit.record("exported", account).object_pk == str(account.pk)
        # Deleted (delete() unsets its key): the error says to record it before.
        account.delete()
        with pytest.raises(ValueError, match=r"unsaved, or deleted.*before deleting it"):
            audit.record("purged", account)

    def test_history_page_shows_changes_that_are_not_a_dict(self) -> None:
        account = Account.objects.create(name="acme")
        AuditEvent.objects.create(
            action="imported", model_label="auditapp.Account", object_pk=str(account.pk),
            changes=["rows", 3],
        )  # fmt: skip
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        assert self.client.get(audit_history_url(account)).status_code == 200

    def test_record_and_history_take_a_model_instance(self) -> None:
        for obj in (AnonymousUser(), "acme", Account):
            with pytest.raises(TypeError, match=r"takes a model instance"):
                audit.record("viewed", obj)  # type: ignore[arg-type]
            with pytest.raises(TypeError, match=r"takes a model instance"):
                audit.history(obj)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="action must be a non-empty string"):
            audit.record("")
        assert not AuditEvent.objects.exists()

    def test_a_lazy_actor_is_not_evaluated_by_context(self) -> None:
        # request.user in an async view: evaluated, it would query the database.
        evaluated: list[bool] = []

        def load() -> AnonymousUser:
            evaluated.append(True)
            return AnonymousUser()

        lazy = SimpleLazyObject(load)
        with audit.context(actor=lazy):
            pass
        assert evaluated == []

    def test_record_takes_a_lazy_translation_as_action(self) -> None:
        account = Account.objects.create(name="acme")
        approved: Any = gettext_lazy("approved")
        assert audit.record(approved, account).action == "approved"

    def test_context_refuses_an_actor_id(self) -> None:
        with pytest.raises(TypeError, match="pass the user itself"):
            audit.context(actor=42)
