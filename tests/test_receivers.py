from __future__ import annotations

import asyncio
import functools
import subprocess
import sys
import time
import warnings
from typing import Any

import pytest
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import Signal
from django.dispatch import receiver as django_receiver
from django.test import override_settings

import signalkit
import signalkit.audit as audit
from signalkit.audit.context import current as audit_context
from signalkit.receivers import DeferredReceiver
from signalkit.testing import capture_signals, mute_signals
from tests.audit_utils import close_thread_connections
from tests.testapp.models import Author

calls: list[Any] = []


def plain(sender: Any, **kwargs: Any) -> None:
    calls.append(("plain", sender))


def other(sender: Any, **kwargs: Any) -> None:
    calls.append(("other", sender))


class Handler:
    def method(self, sender: Any, **kwargs: Any) -> None:
        calls.append(("method", sender))

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        calls.append(("instance", sender))


class NamedHandler:
    def method(self, sender: Any, **kwargs: Any) -> None:
        calls.append(("method", sender))


@pytest.fixture(autouse=True)
def _clear() -> None:
    calls.clear()


class ReceiverDecoratorTests:
    def test_drop_in_connects_like_django(self) -> None:
        signal = Signal()
        result = signalkit.receiver(signal)(plain)
        assert result is plain
        signal.send("s")
        assert calls == [("plain", "s")]
        assert signal.disconnect(plain)

    def test_truthy_flags_are_listed_as_booleans(self) -> None:
        # (The JSON listing documents them as booleans.)
        signal = Signal()
        signalkit.receiver(signal, on_commit="yes")(plain)  # type: ignore[arg-type]
        (info,) = signalkit.registry.receivers(signal)
        assert info.on_commit is True
        assert signal.disconnect(plain)

    def test_list_of_signals(self) -> None:
        first, second = Signal(), Signal()
        signalkit.receiver([first, second], sender="a")(plain)
        first.send("a")
        second.send("a")
        second.send("b")
        assert calls == [("plain", "a"), ("plain", "a")]

    def test_connection_is_identical_to_djangos(self) -> None:
        ours, theirs = Signal(), Signal()
        signalkit.receiver(ours, sender=Author, dispatch_uid="uid")(plain)
        django_receiver(theirs, sender=Author, dispatch_uid="uid")(plain)
        assert ours.receivers == theirs.receivers

    def test_name_sets_the_toggle_key(self) -> None:
        signal = Signal()

        def named(sender: Any, **kwargs: Any) -> None:
            calls.append("named")

        signalkit.receiver(signal, name="my.toggle")(named)
        with override_settings(SIGNALKIT={"RECEIVERS": {"my.toggle": False}}):
            signal.send(None)
        signal.send(None)
        assert calls == ["named"]

    @pytest.mark.django_db(transaction=True)
    @pytest.mark.parametrize("on_commit", [False, True])
    def test_name_of_a_bound_method(self, on_commit: bool) -> None:
        signal = Signal()
        handler = NamedHandler()
        signalkit.receiver(signal, name="handler.toggle", on_commit=on_commit)(handler.method)
        with override_settings(SIGNALKIT={"RECEIVERS": {"handler.toggle": False}}):
            signal.send("off")
        signal.send("on")
        assert calls == [("method", "on")]

    def test_name_of_a_class_sets_its_toggle_key(self) -> None:
        # A class is a callable like any other: Django calls it (runs __init__).
        signal = Signal()

        class Created:
            def __init__(self, sender: Any, **kwargs: Any) -> None:
                calls.append(("created", sender))

        class Later(Created):
            pass

        signalkit.receiver(signal, name="created.toggle")(Created)
        signal.connect(Later)
        assert [info.key for info in signalkit.registry.receivers(signal)] == [
            "created.toggle",
            f"{__name__}.{Later.__qualname__}",  # (its base's name is not its own)
        ]
        with override_settings(SIGNALKIT={"RECEIVERS": {"created.toggle": False}}):
            signal.send("off")
        assert calls == [("created", "off")]  # (Later's)

    @pytest.mark.parametrize("name", [123, "", b"key"])
    def test_name_that_is_not_a_key_is_a_type_error(self, name: Any) -> None:
        signal = Signal()
        with pytest.raises(TypeError, match=r"name must be a non-empty string, not "):
            signalkit.receiver(signal, name=name)(plain)
        assert signal.receivers == []

    def test_name_of_a_receiver_without_attributes_is_a_type_error(self) -> None:
        signal = Signal()
        with pytest.raises(TypeError, match=r"name='builtin' cannot be given to <built-in"):
            signalkit.receiver(signal, name="builtin")(print)
        assert signal.receivers == []


class ToggleTests:
    def setup_method(self) -> None:
        self.signal = Signal()
        self.signal.connect(plain)
        self.signal.connect(other)

    def test_toggle_off_skips_receiver(self) -> None:
        with override_settings(SIGNALKIT={"RECEIVERS": {f"{__name__}.plain": False}}):
            self.signal.send("s")
        assert calls == [("other", "s")]

    def test_toggle_flips_back(self) -> None:
        with override_settings(SIGNALKIT={"RECEIVERS": {f"{__name__}.plain": False}}):
            with override_settings(SIGNALKIT={"RECEIVERS": {f"{__name__}.plain": True}}):
                self.signal.send("on")
            self.signal.send("off")
        self.signal.send("on again")
        assert calls == [
            ("plain", "on"),
            ("other", "on"),
            ("other", "off"),
            ("plain", "on again"),
            ("other", "on again"),
        ]

    def test_receivers_stay_in_signal_receivers(self) -> None:
        before = list(self.signal.receivers)
        with override_settings(SIGNALKIT={"RECEIVERS": {f"{__name__}.plain": False}}):
            assert self.signal.receivers == before

    def test_send_robust_asend_and_asend_robust_obey(self) -> None:
        key = f"{__name__}.plain"
        with override_settings(SIGNALKIT={"RECEIVERS": {key: False}}):
            robust = self.signal.send_robust("r")
            asynchronous = asyncio.run(self.signal.asend("a"))
            async_robust = asyncio.run(self.signal.asend_robust("ar"))
        assert [r for r, _ in robust] == [other]
        assert [r for r, _ in asynchronous] == [other]
        assert [r for r, _ in async_robust] == [other]

    def test_bound_method_partial_and_instance_keys(self) -> None:
        handler = Handler()
        signal = Signal()
        signal.connect(handler.method)
        bound = functools.partial(plain)
        signal.connect(bound)
        signal.connect(handler)
        disabled = {
            f"{__name__}.Handler.method": False,
            f"{__name__}.plain": False,
            f"{__name__}.Handler": False,
        }
        with override_settings(SIGNALKIT={"RECEIVERS": disabled}):
            signal.send("x")
        assert calls == []
        signal.send("y")
        assert calls == [("method", "y"), ("plain", "y"), ("instance", "y")]

    def test_djangos_own_receiver_can_be_switched_off(self) -> None:
        from django.core.signals import request_started
        from django.db import close_old_connections

        key = "django.db.close_old_connections"
        assert close_old_connections in request_started._live_receivers(None)[0]
        with override_settings(SIGNALKIT={"RECEIVERS": {key: False}}):
            assert close_old_connections not in request_started._live_receivers(None)[0]

    def test_receiver_connected_after_toggle_began_is_covered(self) -> None:
        with override_settings(SIGNALKIT={"RECEIVERS": {f"{__name__}.plain": False}}):
            late = Signal()
            late.connect(plain)
            late.send("late")
        assert calls == []


@pytest.mark.django_db(transaction=True)
class RobustDeferredReceiverTests:
    """A deferred receiver that fails at once (autocommit) under Django's own
    robust sends, which log a failing receiver by its ``__qualname__``."""

    @pytest.mark.parametrize("is_async", [False, True])
    @pytest.mark.parametrize("method", ["send_robust", "asend_robust"])
    def test_failure_is_returned_and_later_receivers_run(
        self, is_async: bool, method: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        signal = Signal()

        def fails(sender: Any, **kwargs: Any) -> None:
            raise RuntimeError("boom")

        async def fails_async(sender: Any, **kwargs: Any) -> None:
            raise RuntimeError("boom")

        signalkit.receiver(signal, on_commit=True)(fails_async if is_async else fails)
        signal.connect(plain)
        if method == "send_robust":
            responses = signal.send_robust("x")
        else:
            responses = async_to_sync(signal.asend_robust)("x")
        errors = [response for _, response in responses if isinstance(response, Exception)]
        assert [str(error) for error in errors] == ["boom"]
        assert calls == [("plain", "x")]
        name = "fails_async" if is_async else "fails"
        assert f"<locals>.{name} in Signal.send_robust() (boom)" in caplog.text


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
class OnCommitReceiverTests:
    def setup_method(self) -> None:
        def after_commit(sender: Any, *, instance: Author, created: bool, **kwargs: Any) -> None:
            calls.append((instance.name, created, kwargs["using"]))

        self.func = after_commit
        signalkit.receiver(post_save, sender=Author, on_commit=True)(after_commit)

    def teardown_method(self) -> None:
        post_save.disconnect(self.func, sender=Author)

    def test_runs_at_once_in_autocommit(self) -> None:
        Author.objects.create(name="auto")
        assert calls == [("auto", True, "default")]

    def test_waits_for_commit(self) -> None:
        with transaction.atomic():
            Author.objects.create(name="atomic")
            assert calls == []
        assert calls == [("atomic", True, "default")]

    def test_never_runs_for_rollback(self) -> None:
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            Author.objects.create(name="gone")
            raise ZeroDivisionError
        assert calls == []

    def test_never_runs_for_rolled_back_savepoint(self) -> None:
        with transaction.atomic():
            Author.objects.create(name="kept")
            try:
                with transaction.atomic():
                    Author.objects.create(name="savepoint")
                    raise ZeroDivisionError
            except ZeroDivisionError:
                pass
        assert calls == [("kept", True, "default")]

    def test_disconnect_by_function(self) -> None:
        assert post_save.disconnect(self.func, sender=Author)
        Author.objects.create(name="nobody")
        assert calls == []

    def test_uses_the_signals_database(self) -> None:
        with transaction.atomic(using="other"):
            post_save.send(
                Author, instance=Author(name="x"), created=False, raw=False, using="other"
            )
            assert calls == []
        assert calls == [("x", False, "other")]

    def test_wrapper_is_listed_with_flags(self) -> None:
        wrappers = [
            r for r in post_save._live_receivers(Author)[0] if isinstance(r, DeferredReceiver)
        ]
        assert len(wrappers) == 1
        assert wrappers[0].on_commit
        assert wrappers[0].__wrapped__ is self.func

    def test_runs_in_the_context_of_the_send(self) -> None:
        # As send_on_commit's receivers do: the actor of the code that saved,
        # and its mutes, though both ended before the commit.
        seen: list[Any] = []
        signal = Signal()

        def after(sender: Any, **kwargs: Any) -> None:
            ctx = audit_context()
            seen.append(ctx.actor if ctx else None)
            Author.objects.create(name="by the receiver")

        signalkit.receiver(signal, on_commit=True)(after)
        with transaction.atomic():
            with audit.context(actor="importer"), mute_signals(post_save):
                signal.send("s")
            signal.send("t")
        assert seen == ["importer", None]
        # The first receiver's save ran muted, the second's did not.
        assert calls == [("by the receiver", True, "default")]

    def test_toggle_applies_at_send_time(self) -> None:
        key = f"{__name__}.OnCommitReceiverTests.setup_method.<locals>.after_commit"
        with override_settings(SIGNALKIT={"RECEIVERS": {key: False}}):
            Author.objects.create(name="off")
        assert calls == []


paid = Signal()


def send_paid(sender: Any, **kwargs: Any) -> None:
    paid.send("after the commit")


def both_deferred(capture_callbacks: Any) -> list[Any]:
    """The commit callbacks of a save (whose on_commit receiver sends ``paid``)
    and of a ``send_on_commit(paid)``, taken without running them."""
    with capture_callbacks() as callbacks:
        Author.objects.create(name="a")
        signalkit.send_on_commit(paid, "sent on commit")
    return list(callbacks)


@pytest.mark.django_db
class CommitCallbackContextTests:
    """What applies where the call runs at the commit applies to it too."""

    def setup_method(self) -> None:
        signalkit.receiver(post_save, sender=Author, on_commit=True)(send_paid)
        paid.connect(plain)

    def teardown_method(self) -> None:
        post_save.disconnect(send_paid, sender=Author)
        paid.disconnect(plain)

    def test_a_capture_around_the_commit_sees_what_the_receiver_sends(
        self, django_capture_on_commit_callbacks: Any
    ) -> None:
        callbacks = both_deferred(django_capture_on_commit_callbacks)
        with capture_signals(paid) as capture:
            for callback in callbacks:
                callback()
        assert [call.sender for call in capture.calls] == ["after the commit", "sent on commit"]

    def test_a_mute_around_the_commit_applies_to_what_the_receiver_sends(
        self, django_capture_on_commit_callbacks: Any
    ) -> None:
        callbacks = both_deferred(django_capture_on_commit_callbacks)
        with mute_signals(paid):
            for callback in callbacks:
                callback()
        assert calls == []

    def test_a_process_wide_mute_of_the_send_applies_to_what_the_receiver_sends(
        self, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks() as callbacks:
            with mute_signals(paid, scope="process"):
                Author.objects.create(name="muted")
            Author.objects.create(name="heard")
        for callback in callbacks:
            callback()
        # As with a mute of the sending context: the first call ran muted.
        assert calls == [("plain", "after the commit")]

    def test_a_callback_called_again_has_none_of_the_mutes_of_its_first_call(
        self, django_capture_on_commit_callbacks: Any
    ) -> None:
        callbacks = both_deferred(django_capture_on_commit_callbacks)
        with mute_signals(paid):
            for callback in callbacks:
                callback()
        for callback in callbacks:
            callback()
        assert calls == [("plain", "after the commit"), ("plain", "sent on commit")]


@pytest.mark.django_db(transaction=True)
class AsyncOnCommitReceiverTests:
    def test_async_receiver_runs_after_commit(self) -> None:
        signal = Signal()

        async def async_after(sender: Any, **kwargs: Any) -> None:
            calls.append(("async", sender))

        signalkit.receiver(signal, on_commit=True)(async_after)

        async def main() -> None:
            await signal.asend("a")

        with transaction.atomic():
            # As under ASGI: the database work runs in the thread that owns the
            # transaction.
            async_to_sync(main)()
            signal.send("s")
            assert calls == []
        assert sorted(calls) == [("async", "a"), ("async", "s")]

    @pytest.mark.parametrize("method", ["asend", "asend_robust"])
    @pytest.mark.parametrize("thread_sensitive", [True, False])
    def test_async_receivers_due_at_once_run_side_by_side_like_plain_ones(
        self, method: str, thread_sensitive: bool
    ) -> None:
        # In autocommit an async on_commit receiver runs at once, on the event
        # loop as a plain async receiver does: it does not hold the request's
        # thread for sync code (database access) while it awaits. Outside a
        # ThreadSensitiveContext (asyncio.run() in a command or a worker), on
        # Django 6.1 (one context for all async receivers) the wrapper's own
        # sync_to_async() made the other receiver fail ("Single thread executor
        # already being used").
        signal = Signal()

        async def slow(sender: Any, **kwargs: Any) -> None:
            await asyncio.sleep(0.05)
            calls.append("slow")

        async def fast(sender: Any, **kwargs: Any) -> None:
            calls.append("fast")

        signalkit.receiver(signal, on_commit=True)(slow)
        signalkit.receiver(signal, on_commit=True)(fast)

        async def send() -> list[Any]:
            try:
                return list(await getattr(signal, method)(None))
            finally:
                await sync_to_async(close_thread_connections)()

        async def request() -> list[Any]:
            async with ThreadSensitiveContext():  # as Django's ASGI handler does
                return await send()

        responses = asyncio.run(request() if thread_sensitive else send())
        assert calls == ["fast", "slow"]
        assert [response for _, response in responses] == [None, None]

    @pytest.mark.parametrize("method", ["asend", "asend_robust"])
    def test_due_at_once_beside_a_receiver_in_a_sync_call(self, method: str) -> None:
        # Django 6.1 under asyncio.run(): a sibling receiver in a sync_to_async()
        # call marks the context they share, and the wrapper's own call failed
        # ("would deadlock"): the on_commit receiver was lost.
        signal = Signal()

        async def busy(sender: Any, **kwargs: Any) -> None:
            await sync_to_async(time.sleep)(0.05)  # as an ORM call
            calls.append("busy")

        async def after(sender: Any, **kwargs: Any) -> None:
            calls.append("after")

        signal.connect(busy, weak=False)
        signalkit.receiver(signal, on_commit=True)(after)

        async def send() -> list[Any]:
            try:
                return list(await getattr(signal, method)(None))
            finally:
                await sync_to_async(close_thread_connections)()

        responses = asyncio.run(send())
        assert sorted(calls) == ["after", "busy"]
        assert [response for _, response in responses] == [None, None]


class Notifier:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_signal(self, sender: Any, **kwargs: Any) -> None:
        self.seen.append(sender)


class Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def on_signal(self, sender: Any, **kwargs: Any) -> None:
        calls.append(("unhashable", sender))


class Slotted:
    __slots__ = ()

    def on_signal(self, sender: Any, **kwargs: Any) -> None:
        calls.append(("slotted", sender))


class EqualByName(Notifier):
    """Equal to any other with the same name, as model instances with one pk are."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EqualByName) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class EqualCallable:
    """A receiver object equal to every other of its class."""

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        calls.append(sender)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EqualCallable)

    def __hash__(self) -> int:
        return 0


class ConnectedTwoWaysTests:
    def test_the_second_way_is_ignored_with_a_warning(self) -> None:
        for first, second in ((True, False), (False, True)):
            signal = Signal()

            def on_signal(sender: Any, **kwargs: Any) -> None:
                calls.append(sender)

            signalkit.receiver(signal, on_commit=first)(on_signal)
            with pytest.warns(RuntimeWarning, match=r"on_signal is connected to this signal"):
                signalkit.receiver(signal, on_commit=second)(on_signal)
            assert len(signal.receivers) == 1

    def test_an_equal_object_under_a_taken_uid_is_quiet(self) -> None:
        signal = Signal()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            signalkit.receiver(signal, dispatch_uid="x", weak=False)(EqualCallable())
            signalkit.receiver(signal, dispatch_uid="x", weak=False, on_commit=True)(
                EqualCallable()
            )
        assert len(signal.receivers) == 1

    def test_a_falsy_dispatch_uid_is_no_uid_as_for_django(self) -> None:
        signal = Signal()
        signalkit.receiver(signal, dispatch_uid="", on_commit=True)(plain)
        assert signal.disconnect(plain)
        assert signal.receivers == []

    def test_again_the_same_way_or_another_function_under_one_uid_is_quiet(self) -> None:
        signal = Signal()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            signalkit.receiver(signal, on_commit=True)(plain)
            signalkit.receiver(signal, on_commit=True)(plain)  # ready() running twice
            signalkit.receiver(signal, dispatch_uid="one", on_commit=True)(other)
            signalkit.receiver(signal, dispatch_uid="one")(plain)  # Django's dedupe
        assert len(signal.receivers) == 2


AT_EXIT = """
import atexit

from django.dispatch import Signal

signal = Signal()
atexit.register(lambda: signal.send("at exit"))  # runs after signalkit's own

import django
from django.conf import settings

settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    INSTALLED_APPS=["signalkit"],
)
django.setup()

import signalkit


@signalkit.receiver(signal, on_commit=True)
def after_commit(sender, **kwargs):
    print("received", sender, flush=True)


signal.send("now")
"""


class InterpreterExitTests:
    def test_an_on_commit_receiver_still_runs_in_an_atexit_handler(self) -> None:
        run = subprocess.run(
            [sys.executable, "-c", AT_EXIT], capture_output=True, text=True, check=True
        )
        assert run.stdout.splitlines() == ["received now", "received at exit"]


@pytest.mark.django_db(transaction=True)
class DeferredBoundMethodTests:
    def test_bound_method_lives_as_long_as_its_object(self) -> None:
        import gc

        from signalkit.receivers import connect

        signal = Signal()
        notifier = Notifier()
        connect(signal, notifier.on_signal, on_commit=True)
        signal.send("first")
        assert notifier.seen == ["first"]
        assert signal.disconnect(notifier.on_signal)
        connect(signal, notifier.on_signal, on_commit=True)
        del notifier
        gc.collect()
        assert signal.send("second") == []

    def test_unhashable_object_connects_weakly_as_with_django(self) -> None:
        from signalkit.receivers import connect

        signal = Signal()
        handler = Unhashable()
        connect(signal, handler.on_signal, on_commit=True)
        signal.send("s")
        assert calls == [("unhashable", "s")]

    def test_object_without_weak_references_needs_weak_false(self) -> None:
        from signalkit.receivers import connect

        signal = Signal()
        handler = Slotted()
        with pytest.raises(TypeError, match="Connect it with weak=False"):
            connect(signal, handler.on_signal, on_commit=True)
        connect(signal, handler.on_signal, on_commit=True, weak=False)
        signal.send("s")
        assert calls == [("slotted", "s")]

    def test_equal_objects_keep_their_own_receivers(self) -> None:
        import gc

        from signalkit.receivers import connect

        first_signal, second_signal = Signal(), Signal()
        first, second = EqualByName("same"), EqualByName("same")
        connect(first_signal, first.on_signal, on_commit=True)
        connect(second_signal, second.on_signal, on_commit=True)
        second_signal.send("to second")
        assert (first.seen, second.seen) == ([], ["to second"])
        del first
        gc.collect()
        second_signal.send("again")
        assert second.seen == ["to second", "again"]
