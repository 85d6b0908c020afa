from __future__ import annotations

import asyncio
import functools
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal
from django.test import override_settings

import signalkit
from signalkit import gate, gated
from signalkit.entries import make_id
from signalkit.gate import Mute, muting
from signalkit.toggled import build_entries

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def make_receiver(calls: list[str], name: str) -> Any:
    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append(name)

    receiver.__qualname__ = name
    return receiver


WHILE_APPS_LOAD = """
import django
from django.conf import settings
from django.db.models.signals import class_prepared

ran = {"off": [], "on": []}

def switched_off(sender, **kwargs):
    ran["off"].append(sender.__name__)

def switched_on(sender, **kwargs):
    ran["on"].append(sender.__name__)

class_prepared.connect(switched_off)
class_prepared.connect(switched_on)
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "signalkit"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    SIGNALKIT={"RECEIVERS": {"__main__.switched_off": False}},
)
django.setup()
print("off:", *ran["off"])
print("on:", *ran["on"][:2])
"""


class GateInstallationTests:
    def test_not_installed_while_idle(self) -> None:
        assert not gate.installed()

    def test_installed_only_while_a_mute_is_active(self) -> None:
        with muting(Mute()):
            assert gate.installed()
        assert not gate.installed()

    def test_installed_while_a_toggle_is_off(self) -> None:
        with override_settings(SIGNALKIT={"RECEIVERS": {"x.y": False}}):
            assert gate.installed()
        assert not gate.installed()

    def test_toggle_set_to_true_does_not_install(self) -> None:
        with override_settings(SIGNALKIT={"RECEIVERS": {"x.y": True}}):
            assert not gate.installed()

    def test_ready_running_again_keeps_state(self) -> None:
        from django.apps import apps

        with override_settings(SIGNALKIT={"RECEIVERS": {"x.y": False}}):
            apps.get_app_config("signalkit").ready()
            assert gate.installed()
        assert not gate.installed()

    def test_toggles_apply_while_apps_load(self) -> None:
        # class_prepared (and what other apps' ready() sends) comes before
        # signalkit's ready(): a receiver switched off ran for every model.
        run = subprocess.run(
            [sys.executable, "-c", WHILE_APPS_LOAD], capture_output=True, text=True, check=True
        )
        assert run.stdout.split() == ["off:", "on:", "ContentType", "Permission"]

    def test_bad_scope_is_refused(self) -> None:
        with pytest.raises(ValueError, match="scope is 'thread'"), muting(Mute(), scope="thread"):
            pass


class MuteTests:
    def setup_method(self) -> None:
        self.calls: list[str] = []
        self.signal = Signal()
        self.first = make_receiver(self.calls, "first")
        self.second = make_receiver(self.calls, "second")
        self.signal.connect(self.first)
        self.signal.connect(self.second)

    def test_mute_of_one_signal(self) -> None:
        other = Signal()
        other.connect(self.first)
        with muting(Mute([self.signal])):
            self.signal.send(None)
            other.send(None)
        assert self.calls == ["first"]

    def test_mute_of_one_receiver_by_callable_and_by_key(self) -> None:
        with muting(Mute(receivers=[self.first])):
            self.signal.send(None)
        key = f"{__name__}.second"
        with muting(Mute(receivers=[key])):
            self.signal.send(None)
        assert self.calls == ["second", "first"]

    def test_receivers_stay_connected(self) -> None:
        before = list(self.signal.receivers)
        with muting(Mute()):
            assert self.signal.send(None) == []
        assert self.signal.receivers == before
        self.signal.send(None)
        assert self.calls == ["first", "second"]

    def test_has_listeners_is_honest(self) -> None:
        with muting(Mute([self.signal])):
            assert not self.signal.has_listeners()
        assert self.signal.has_listeners()

    def test_receiver_connected_inside_block_is_muted_then_works(self) -> None:
        late = make_receiver(self.calls, "late")
        with muting(Mute([self.signal])):
            self.signal.connect(late)
            self.signal.send(None)
        assert self.calls == []
        self.signal.send(None)
        assert self.calls == ["first", "second", "late"]

    def test_disconnect_inside_block_is_kept(self) -> None:
        with muting(Mute([self.signal])):
            self.signal.disconnect(self.first)
        self.signal.send(None)
        assert self.calls == ["second"]

    def test_signal_created_inside_block_is_covered(self) -> None:
        with muting(Mute()):
            new = Signal()
            new.connect(self.first)
            new.send(None)
        assert self.calls == []

    def test_sender_selector_by_class_and_label(self) -> None:
        from tests.testapp.models import Article, Author

        received: list[Any] = []

        def on_save(sender: Any, **kwargs: Any) -> None:
            received.append(sender)

        pre_save.connect(on_save)
        try:
            with muting(Mute([pre_save], sender=Author)):
                pre_save.send(Author, instance=None)
                pre_save.send(Article, instance=None)
            with muting(Mute([pre_save], sender="testapp.Article")):
                pre_save.send(Author, instance=None)
                pre_save.send(Article, instance=None)
        finally:
            pre_save.disconnect(on_save)
        assert received == [Article, Author]

    def test_sender_label_matches_the_model_name_in_any_case(self) -> None:
        from tests.testapp.models import Article, Author

        received: list[Any] = []

        def on_save(sender: Any, **kwargs: Any) -> None:
            received.append(sender)

        pre_save.connect(on_save)
        try:
            with muting(Mute([pre_save], sender="testapp.article")) as mute:
                pre_save.send(Article, instance=None)
                pre_save.send(Author, instance=None)
        finally:
            pre_save.disconnect(on_save)
        assert received == [Author]
        assert mute.sender_label == "testapp.Article"

    def test_sender_label_of_no_model_of_an_installed_app_is_refused(self) -> None:
        with pytest.raises(
            ValueError, match=r"the 'testapp' app has no model 'Artcle'.*'testapp\.Article'"
        ):
            Mute([pre_save], sender="testapp.Artcle")

    def test_other_strings_are_plain_senders(self) -> None:
        for sender in ("me", "no_such_app.Model", "testapp.signals.module"):
            with muting(Mute([self.signal], sender=sender)):
                self.signal.send(sender)
        assert self.calls == []

    def test_sender_label_given_before_the_models_are_loaded(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from django.apps import apps

        from tests.testapp.models import Article

        monkeypatch.setattr(apps, "models_ready", False)
        mute = Mute([pre_save], sender="testapp.article")
        unknown = Mute([pre_save], sender="testapp.nothing")
        monkeypatch.undo()
        assert mute.applies_to(pre_save, Article)
        assert not unknown.applies_to(pre_save, Article)

    def test_dotted_path_selector(self) -> None:
        received: list[Any] = []

        def on_save(sender: Any, **kwargs: Any) -> None:
            received.append(sender)

        post_save.connect(on_save)
        try:
            with muting(Mute(["django.db.models.signals.post_save"])):
                post_save.send(object, instance=None)
        finally:
            post_save.disconnect(on_save)
        assert received == []

    def test_bad_dotted_path(self) -> None:
        with pytest.raises(ValueError, match="not the dotted path of a signal"):
            Mute(["django.db.models.signals.no_such_signal"])
        with pytest.raises(ValueError, match="not a signal"):
            Mute(["django.db.models.signals.ModelSignal"])

    def test_catch_all_spares_django_and_bookkeeping_receivers(self) -> None:
        from django.core.signals import setting_changed

        django_receiver = make_receiver(self.calls, "django_own")
        django_receiver.__module__ = "django.test.signals"
        setting_changed.connect(django_receiver)
        try:
            with muting(Mute()):
                setting_changed.send(None, setting="X", value=1, enter=True)
        finally:
            setting_changed.disconnect(django_receiver)
        assert self.calls == ["django_own"]

    def test_explicit_signal_mute_silences_django_receivers_too(self) -> None:
        django_receiver = make_receiver(self.calls, "django_own")
        django_receiver.__module__ = "django.contrib.fake"
        self.signal.connect(django_receiver)
        with muting(Mute([self.signal])):
            self.signal.send(None)
        assert self.calls == []

    def test_nesting_in_any_order(self) -> None:
        outer, inner = Mute(receivers=[self.first]), Mute(receivers=[self.second])
        outer_block, inner_block = muting(outer), muting(inner)
        outer_block.__enter__()
        inner_block.__enter__()
        outer_block.__exit__(None, None, None)
        self.signal.send(None)
        inner_block.__exit__(None, None, None)
        self.signal.send(None)
        assert self.calls == ["first", "first", "second"]

    def test_receiver_mutes_a_catch_all_and_a_sender_mute_combine(self) -> None:
        django_receiver = make_receiver(self.calls, "django_own")
        django_receiver.__module__ = "django.contrib.fake"
        third = make_receiver(self.calls, "third")
        for receiver in (django_receiver, third):
            self.signal.connect(receiver)
        with muting(Mute(receivers=[self.first])), muting(Mute(receivers=[self.second])):
            self.signal.send(None)
            with muting(Mute()):
                self.signal.send(None)
            with muting(Mute([self.signal], sender=int)):
                self.signal.send(int)
                self.signal.send(None)
        assert self.calls == ["django_own", "third", "django_own", "django_own", "third"]

    def test_same_mute_entered_twice_stays_until_both_end(self) -> None:
        mute = Mute([self.signal])
        with muting(mute):
            with muting(mute):
                pass
            self.signal.send(None)
        assert self.calls == []
        self.signal.send(None)
        assert self.calls == ["first", "second"]

    def test_other_threads_are_not_muted(self) -> None:
        def send() -> None:
            self.signal.send(None)

        with muting(Mute([self.signal])):
            thread = threading.Thread(target=send)
            thread.start()
            thread.join()
        assert self.calls == ["first", "second"]

    def test_process_scope_mutes_other_threads(self) -> None:
        def send() -> None:
            self.signal.send(None)

        with muting(Mute([self.signal]), scope="process"):
            thread = threading.Thread(target=send)
            thread.start()
            thread.join()
        assert self.calls == []
        assert not gate.installed()

    def test_dispatch_uid_dedupe_inside_block(self) -> None:
        with muting(Mute([self.signal])):
            self.signal.connect(make_receiver(self.calls, "uid1"), dispatch_uid="uid", weak=False)
            self.signal.connect(make_receiver(self.calls, "uid2"), dispatch_uid="uid", weak=False)
        self.signal.send(None)
        assert self.calls == ["first", "second", "uid1"]


class AsyncMuteTests:
    def test_async_receivers_are_filtered_and_tasks_isolated(self) -> None:
        calls: list[str] = []
        signal = Signal()

        async def receiver(sender: Any, **kwargs: Any) -> None:
            calls.append(sender)

        signal.connect(receiver)

        async def muted_task(entered: asyncio.Event, done: asyncio.Event) -> None:
            with muting(Mute([signal])):
                entered.set()
                await signal.asend("muted")
                await done.wait()

        async def other_task(entered: asyncio.Event, done: asyncio.Event) -> None:
            await entered.wait()
            await signal.asend("other")
            done.set()

        async def main() -> None:
            entered, done = asyncio.Event(), asyncio.Event()
            await asyncio.gather(muted_task(entered, done), other_task(entered, done))

        asyncio.run(main())
        assert calls == ["other"]


class ToggleCacheTests:
    """The toggled receivers are cached per signal; every change must show."""

    def setup_method(self) -> None:
        self.calls: list[str] = []
        self.signal = Signal()
        self.receivers = [make_receiver(self.calls, name) for name in ("a", "b", "c")]
        for receiver in self.receivers:
            self.signal.connect(receiver)

    def toggled(self) -> Any:
        return override_settings(SIGNALKIT={"RECEIVERS": {f"{__name__}.b": False}})

    def test_disconnect_then_connect_keeping_the_length(self) -> None:
        with self.toggled():
            self.signal.send(None)
            self.signal.disconnect(self.receivers[0])
            replacement = make_receiver(self.calls, "d")
            self.signal.connect(replacement)
            self.signal.send(None)
        assert self.calls == ["a", "c", "c", "d"]

    def test_dead_weak_receiver_is_skipped(self) -> None:
        import gc

        with self.toggled():
            self.signal.connect(make_receiver(self.calls, "temporary"))
            gc.collect()
            self.signal.send(None)
        assert self.calls == ["a", "c"]

    def test_senders_are_told_apart(self) -> None:
        only_for_x = make_receiver(self.calls, "x")
        self.signal.connect(only_for_x, sender="x")
        with self.toggled():
            self.signal.send("y")
            self.signal.send("x")
        assert self.calls == ["a", "c", "a", "c", "x"]

    def test_changing_toggles_rebuilds(self) -> None:
        with self.toggled():
            self.signal.send(None)
            with override_settings(SIGNALKIT={"RECEIVERS": {f"{__name__}.a": False}}):
                self.signal.send(None)
        assert self.calls == ["a", "c", "b", "c"]

    def test_a_name_given_since_rebuilds(self) -> None:
        # The name comes with another signal's connection: this one's receivers
        # did not change, its receiver's key did.
        other = Signal()
        with override_settings(SIGNALKIT={"RECEIVERS": {"renamed.a": False}}):
            self.signal.send(None)
            signalkit.receiver(other, name="renamed.a")(self.receivers[0])
            self.signal.send(None)
        assert self.calls == ["a", "b", "c", "b", "c"]

    def test_caching_signal_and_has_listeners(self) -> None:
        from tests.testapp.models import Author

        signal = Signal(use_caching=True)
        signal.connect(self.receivers[1], sender=Author)
        with self.toggled():
            assert not signal.has_listeners(Author)
            assert signal.send(Author) == []
        assert signal.has_listeners(Author)

    def test_last_receiver_disconnected_by_another_thread_during_a_send(self) -> None:
        # Signal.receivers is read without the signal's lock: another thread
        # may disconnect the last receiver between two reads of the list.
        signal = self.signal
        for other in (self.receivers[0], self.receivers[2]):
            signal.disconnect(other)
        racing = [True]

        class Racing(list[Any]):
            def __getitem__(self, index: Any) -> Any:
                if racing:
                    racing.clear()
                    del self[0]  # (the other thread's disconnect(), just now)
                return super().__getitem__(index)

        signal.receivers = Racing(signal.receivers)
        with override_settings(SIGNALKIT={"RECEIVERS": {f"{__name__}.a": False}}):
            assert signal.send(None) == []
        assert self.calls == []

    def test_a_receiver_connected_by_another_thread_during_a_rebuild_is_not_kept(
        self,
    ) -> None:
        # Connected (and then disconnected) by another thread while a send
        # builds the cached receivers: once disconnected, it must not run.
        signal, late = self.signal, make_receiver(self.calls, "late")
        racing = [True]

        class Racing(list[Any]):
            def __iter__(self) -> Any:
                if racing:
                    racing.clear()
                    signal.connect(late)  # (the other thread, just now)
                return super().__iter__()

        signal.receivers = Racing(signal.receivers)
        with self.toggled():
            signal.send(None)
            signal.disconnect(late)
            signal.send(None)
        assert self.calls == ["a", "c", "late", "a", "c"]

    def test_unknown_entry_shape_is_not_read(self) -> None:
        assert build_entries([((1, make_id(None)), self.receivers[0])], 1, frozenset()) is None

    def test_fallback_filters_what_django_resolves(self) -> None:
        with self.toggled():
            sync_receivers, _ = gated._filter_resolved(self.signal, None, [Mute(receivers=["x"])])
        assert [r.__qualname__ for r in sync_receivers] == ["a", "c"]


class Timed:
    """A callable receiver, which a wrapper cannot copy a name from."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        self.calls.append("timed")


@pytest.fixture
def foreign_wrapper() -> Iterator[Callable[[], list[Any]]]:
    """Installs a wrapper of ``Signal._live_receivers`` like sentry-sdk's: it
    records each send and wraps each receiver it returns."""
    django_live = Signal.__dict__["_live_receivers"]

    def timing(receiver: Any) -> Any:
        @functools.wraps(receiver)
        def timed(*args: Any, **kwargs: Any) -> Any:
            return receiver(*args, **kwargs)

        return timed

    def install() -> list[Any]:
        seen: list[Any] = []
        below = Signal.__dict__["_live_receivers"]

        @functools.wraps(below)
        def wrapper(self: Signal, sender: Any) -> Any:
            seen.append(sender)
            sync_receivers, async_receivers = below(self, sender)
            return [timing(each) for each in sync_receivers], async_receivers

        Signal._live_receivers = wrapper  # type: ignore[method-assign]
        return seen

    yield install
    Signal._live_receivers = django_live  # type: ignore[method-assign]
    gate.refresh()
    assert not gate.installed()


class ForeignWrapperTests:
    """Another library's wrapper of ``_live_receivers`` keeps working around the gate."""

    def setup_method(self) -> None:
        self.calls: list[str] = []
        self.signal = Signal()
        self.plain = make_receiver(self.calls, "plain")
        self.timed = Timed(self.calls)
        self.signal.connect(self.plain)
        self.signal.connect(self.timed)

    def test_gate_sits_on_djangos_method_without_a_wrapper(self) -> None:
        with muting(Mute(receivers=["x.y"])):
            assert Signal.__dict__["_live_receivers"] is gated._gated_live_receivers

    def test_wrapper_installed_while_idle_survives_a_mute(self, foreign_wrapper: Any) -> None:
        seen = foreign_wrapper()
        wrapper = Signal.__dict__["_live_receivers"]
        with muting(Mute([Signal()])):
            assert gate.installed()
        assert Signal.__dict__["_live_receivers"] is wrapper
        self.signal.send("after")
        assert seen == ["after"]
        assert self.calls == ["plain", "timed"]

    def test_wrapper_installed_first_runs_while_a_mute_is_active(
        self, foreign_wrapper: Any
    ) -> None:
        seen = foreign_wrapper()
        with muting(Mute(receivers=[self.plain])):
            self.signal.send("inside")
        with muting(Mute(receivers=[self.timed])):
            self.signal.send("inside")
        assert seen == ["inside", "inside"]
        assert self.calls == ["timed", "plain"]

    def test_wrapper_installed_first_runs_while_a_toggle_is_off(self, foreign_wrapper: Any) -> None:
        seen = foreign_wrapper()
        with override_settings(SIGNALKIT={"RECEIVERS": {f"{Timed.__module__}.Timed": False}}):
            self.signal.send("toggled")
        assert "toggled" in seen  # setting_changed went through it too
        assert self.calls == ["plain"]

    def test_wrapper_installed_on_top_of_the_gate_is_left_in_place(
        self, foreign_wrapper: Any
    ) -> None:
        with muting(Mute(receivers=[self.plain])):
            seen = foreign_wrapper()
            wrapper = Signal.__dict__["_live_receivers"]
            self.signal.send("inside")
        assert Signal.__dict__["_live_receivers"] is wrapper
        self.signal.send("after")
        with muting(Mute(receivers=[self.timed])):
            assert Signal.__dict__["_live_receivers"] is wrapper
            self.signal.send("again")
        assert seen == ["inside", "after", "again"]
        assert self.calls == ["timed", "plain", "timed", "plain"]

    def test_gate_replaced_by_djangos_method_goes_on_again(self) -> None:
        django_live = Signal.__dict__["_live_receivers"]
        with muting(Mute(receivers=[self.plain])):
            Signal._live_receivers = django_live  # type: ignore[method-assign]
            with muting(Mute(receivers=[self.timed])):
                assert gate.installed()
                self.signal.send(None)
        assert not gate.installed()
        assert self.calls == []


class WholeSignalFastPathTests:
    def setup_method(self) -> None:
        self.calls: list[str] = []
        self.signal = Signal()
        self.signal.connect(make_receiver(self.calls, "first"), weak=False)

    def test_send_hook_only_while_a_whole_signal_is_muted(self) -> None:
        original = Signal.__dict__["send"]
        with muting(Mute(receivers=["x.y"])):
            assert Signal.__dict__["send"] is original
        with muting(Mute([self.signal])):
            assert Signal.__dict__["send"] is not original
            assert self.signal.send(None) == []
            assert not self.signal.has_listeners()
        assert Signal.__dict__["send"] is original
        self.signal.send(None)
        assert self.calls == ["first"]

    def test_a_sender_mute_is_not_a_whole_signal_mute(self) -> None:
        with muting(Mute([self.signal], sender="me")):
            self.signal.send("me")
            self.signal.send("other")
        assert self.calls == ["first"]

    def test_whole_signal_mute_in_one_thread_only(self) -> None:
        with muting(Mute([self.signal])):
            thread = threading.Thread(target=self.signal.send, args=(None,))
            thread.start()
            thread.join()
            self.signal.send(None)
        assert self.calls == ["first"]

    def test_process_mutes_end_in_any_order(self) -> None:
        other = Signal()
        other.connect(make_receiver(self.calls, "other"), weak=False)
        first, second = Mute([self.signal]), Mute([other])
        gate.enter(first, "process")
        gate.enter(second, "process")
        gate.leave(first, "process")
        self.signal.send(None)
        other.send(None)
        gate.leave(second, "process")
        other.send(None)
        assert self.calls == ["first", "other"]
        assert not gate.installed()

    def test_enter_and_leave(self) -> None:
        mute = Mute([self.signal])
        gate.enter(mute)
        gate.enter(mute, "process")
        gate.leave(mute)
        self.signal.send(None)
        gate.leave(mute, "process")
        self.signal.send(None)
        assert self.calls == ["first"]
        assert gate.active_mutes() == ()
        assert not gate.installed()
