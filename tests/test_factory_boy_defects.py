"""factory_boy's ``mute_signals`` swaps ``signal.receivers`` for the whole process.

Each test first shows one of its defects, then shows that
:func:`signalkit.testing.mute_signals` does not have it.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import types
import unittest
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import Signal
from django.test import SimpleTestCase
from django.test.utils import CaptureQueriesContext
from factory.django import mute_signals as untyped_factory_mute_signals

from signalkit.testing import mute_signals
from tests.factories import ArticleFactory, AuthorFactory, TagFactory
from tests.testapp import signals as testapp_signals
from tests.testapp.models import Article, Author, Tag
from tests.testingapp.models import Entry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

factory_mute_signals: Callable[..., Any] = untyped_factory_mute_signals

MUTES = [
    pytest.param(factory_mute_signals, id="factory_boy"),
    pytest.param(mute_signals, id="signalkit"),
]

calls: list[str] = []


def first(sender: Any, **kwargs: Any) -> None:
    calls.append("first")


def second(sender: Any, **kwargs: Any) -> None:
    calls.append("second")


@pytest.fixture
def signal() -> Iterator[Signal]:
    # A fresh signal per test: factory_boy's defects damage the signal they touch.
    calls.clear()
    signal = Signal()
    signal.connect(first, dispatch_uid="first")
    yield signal
    calls.clear()


def send_in_thread(signal: Signal) -> None:
    thread = threading.Thread(target=signal.send, args=(None,))
    thread.start()
    thread.join()


class OtherThreadsTests:
    def test_factory_boy_mutes_other_threads(self, signal: Signal) -> None:
        with factory_mute_signals(signal):
            send_in_thread(signal)
        assert calls == []

    def test_signalkit_mutes_only_the_current_thread(self, signal: Signal) -> None:
        with mute_signals(signal):
            send_in_thread(signal)
            signal.send(None)
        assert calls == ["first"]


class OtherTasksTests:
    @staticmethod
    def run_tasks(signal: Signal, mute: Callable[..., Any]) -> None:
        # Events, not sleeps: the other task sends while the first is inside its
        # block, however loaded the machine is.
        async def muted(entered: asyncio.Event, sent: asyncio.Event) -> None:
            with mute(signal):
                entered.set()
                await sent.wait()

        async def unmuted(entered: asyncio.Event, sent: asyncio.Event) -> None:
            await entered.wait()
            await signal.asend(None)
            sent.set()

        async def main() -> None:
            entered, sent = asyncio.Event(), asyncio.Event()
            await asyncio.gather(muted(entered, sent), unmuted(entered, sent))

        asyncio.run(main())

    def test_factory_boy_mutes_other_tasks(self, signal: Signal) -> None:
        self.run_tasks(signal, factory_mute_signals)
        assert calls == []

    def test_signalkit_mutes_only_the_current_task(self, signal: Signal) -> None:
        self.run_tasks(signal, mute_signals)
        assert calls == ["first"]


class ConnectInsideTests:
    def test_factory_boy_runs_receivers_connected_inside(self, signal: Signal) -> None:
        with factory_mute_signals(signal):
            signal.connect(second)
            signal.send(None)
        assert calls == ["second"]

    def test_signalkit_mutes_them_and_keeps_them(self, signal: Signal) -> None:
        with mute_signals(signal):
            signal.connect(second)
            signal.send(None)
        assert calls == []
        signal.send(None)
        assert calls == ["first", "second"]


class DisconnectInsideTests:
    @pytest.mark.parametrize("mute", MUTES)
    def test_disconnect_inside(self, signal: Signal, mute: Callable[..., Any]) -> None:
        with mute(signal):
            disconnected = signal.disconnect(first, dispatch_uid="first")
        signal.send(None)
        if mute is factory_mute_signals:
            # Nothing was there to disconnect, and the receiver comes back on exit.
            assert (disconnected, calls) == (False, ["first"])
        else:
            assert (disconnected, calls) == (True, [])


class DispatchUidTests:
    @pytest.mark.parametrize("mute", MUTES)
    def test_same_dispatch_uid_inside(self, signal: Signal, mute: Callable[..., Any]) -> None:
        with mute(signal):
            signal.connect(first, dispatch_uid="first")
        signal.send(None)
        expected = ["first", "first"] if mute is factory_mute_signals else ["first"]
        assert calls == expected


class NestedReuseTests:
    @pytest.mark.parametrize("mute", MUTES)
    def test_one_instance_nested(self, signal: Signal, mute: Callable[..., Any]) -> None:
        muted = mute(signal)
        with muted, muted:
            pass
        signal.send(None)
        if mute is factory_mute_signals:
            # The inner block saved the empty list: the receiver is gone for good.
            assert (calls, signal.receivers) == ([], [])
        else:
            assert calls == ["first"]


class AsyncFunctionTests:
    @pytest.mark.parametrize("mute", MUTES)
    def test_decorated_coroutine_function(self, signal: Signal, mute: Callable[..., Any]) -> None:
        @mute(signal)  # type: ignore[untyped-decorator]
        async def send() -> None:
            await signal.asend(None)

        asyncio.run(send())
        if mute is factory_mute_signals:
            # The block ended when the coroutine was created, before it ran.
            assert not inspect.iscoroutinefunction(send)
            assert calls == ["first"]
        else:
            assert inspect.iscoroutinefunction(send)
            assert calls == []


class TestCaseClassTests:
    @pytest.mark.parametrize("mute", MUTES)
    def test_decorated_test_case(self, signal: Signal, mute: Callable[..., Any]) -> None:
        class Case(SimpleTestCase):
            def test_send(self) -> None:
                signal.send(None)

        module = types.ModuleType("decorated")
        module.Case = mute(signal)(Case)  # type: ignore[attr-defined]
        suite = unittest.defaultTestLoader.loadTestsFromModule(module)
        result = unittest.TestResult()
        suite.run(result)
        if mute is factory_mute_signals:
            # Replaced by a function: the loader finds no test at all.
            assert not isinstance(module.Case, type)
            assert result.testsRun == 0
        else:
            assert result.testsRun == 1
            assert result.wasSuccessful()
            assert calls == []


def on_delete(sender: Any, **kwargs: Any) -> None:
    calls.append("deleted")


@pytest.fixture
def delete_receivers() -> Iterator[None]:
    calls.clear()
    pre_delete.connect(on_delete, sender=Entry, dispatch_uid="defects.pre_delete")
    post_delete.connect(on_delete, sender=Entry, dispatch_uid="defects.post_delete")
    # Any earlier delete of an Entry fills Django's per-sender receiver cache.
    assert pre_delete.has_listeners(Entry)
    yield
    pre_delete.disconnect(sender=Entry, dispatch_uid="defects.pre_delete")
    post_delete.disconnect(sender=Entry, dispatch_uid="defects.post_delete")


def delete_queries(count: int = 1000) -> int:
    Entry.objects.bulk_create(Entry(number=number) for number in range(count))
    with CaptureQueriesContext(connection) as queries:
        Entry.objects.all().delete()
    assert not Entry.objects.exists()
    return len(queries)


@pytest.mark.django_db
class FastDeleteTests:
    def test_baseline_without_receivers(self) -> None:
        assert not pre_delete.has_listeners(Entry)
        assert delete_queries() == 1

    @pytest.mark.usefixtures("delete_receivers")
    def test_factory_boy_loses_the_fast_path(self) -> None:
        with factory_mute_signals(pre_delete, post_delete):
            assert pre_delete.has_listeners(Entry)
            queries = delete_queries()
        assert queries > 1
        assert calls == []

    @pytest.mark.usefixtures("delete_receivers")
    def test_signalkit_keeps_the_fast_path(self) -> None:
        with mute_signals(pre_delete, post_delete):
            assert not pre_delete.has_listeners(Entry)
            assert not post_delete.has_listeners(Entry)
            assert delete_queries() == 1
        assert calls == []
        assert pre_delete.has_listeners(Entry)


def create_tag_for(sender: Any, *, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created:
        Tag.objects.create(name=f"side effect of {instance}")


def record_m2m(sender: Any, **kwargs: Any) -> None:
    calls.append(f"m2m {kwargs['action']}")


@pytest.mark.django_db
class FactoriesInsideAMuteTests:
    @pytest.fixture(autouse=True)
    def side_effects(self) -> Iterator[None]:
        calls.clear()
        post_save.connect(create_tag_for, sender=Author, dispatch_uid="defects.side_effect")
        m2m_changed.connect(record_m2m, sender=Article.tags.through, dispatch_uid="defects.m2m")
        pre_save.connect(first, dispatch_uid="defects.pre_save")
        yield
        post_save.disconnect(sender=Author, dispatch_uid="defects.side_effect")
        m2m_changed.disconnect(sender=Article.tags.through, dispatch_uid="defects.m2m")
        pre_save.disconnect(dispatch_uid="defects.pre_save")

    def test_factories_create_no_side_effects(self) -> None:
        seen = list(testapp_signals.seen_authors)
        with mute_signals():
            article = ArticleFactory.create(tags=TagFactory.create_batch(2))
            AuthorFactory.create()
        assert Tag.objects.count() == 2
        assert article.tags.count() == 2
        assert testapp_signals.seen_authors == seen
        assert calls == []

    def test_the_same_factories_unmuted_have_side_effects(self) -> None:
        ArticleFactory.create(tags=TagFactory.create_batch(2))
        assert Tag.objects.filter(name__startswith="side effect of").count() == 1
        assert "m2m post_add" in calls
