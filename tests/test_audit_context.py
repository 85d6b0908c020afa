from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
from asgiref.sync import markcoroutinefunction
from django.contrib.auth.models import User
from django.db import models
from django.dispatch import Signal, dispatcher
from django.test import SimpleTestCase
from django.test.utils import isolate_apps

import signalkit.audit as audit
from signalkit.audit.context import current, resolve_actor
from tests.auditapp.models import Owner

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


def current_actor() -> str | None:
    ctx = current()
    return None if ctx is None else ctx.actor


class ContextTests(SimpleTestCase):
    def test_nests_and_restores(self) -> None:
        with audit.context("outer", job="a"):
            with audit.context("inner", step=1) as inner:
                assert (inner.actor, inner.extra) == ("inner", {"job": "a", "step": 1})
            assert current_actor() == "outer"
        assert current() is None

    def test_restores_when_the_block_raises(self) -> None:
        with pytest.raises(ValueError, match="inside"), audit.context("x"):
            raise ValueError("inside")
        assert current() is None

    def test_one_scope_entered_twice(self) -> None:
        scope = audit.context("cron")
        with scope, scope:
            assert current_actor() == "cron"
        assert current() is None

    def test_remote_addr_is_normalised_and_an_invalid_one_dropped(self) -> None:
        with audit.context(remote_addr="::ffff:10.0.0.1") as ctx:
            assert ctx.remote_addr == "10.0.0.1"
        # PostgreSQL's inet would reject it when the event is written.
        with audit.context(remote_addr="10.0.0.1:443") as ctx:
            assert ctx.remote_addr == "10.0.0.1"
        with audit.context(remote_addr="gateway.local") as ctx:
            assert ctx.remote_addr is None

    def test_decorates_a_function(self) -> None:
        @audit.context("job")
        def work() -> str | None:
            return current_actor()

        assert work() == "job"
        assert current() is None

    def test_decorates_a_coroutine_function(self) -> None:
        @audit.context("task", queue="q")
        async def work(delay: float) -> tuple[str | None, dict[str, object]]:
            await asyncio.sleep(delay)
            ctx = current()
            assert ctx is not None
            return ctx.actor, ctx.extra

        async def main() -> list[tuple[str | None, dict[str, object]]]:
            # Overlapping calls of one decorated coroutine function.
            return list(await asyncio.gather(work(0.02), work(0.01)))

        assert asyncio.run(main()) == [("task", {"queue": "q"})] * 2
        assert current() is None

    def test_the_decorated_function_sees_its_callers_context(self) -> None:
        @audit.context(None, step="load")
        def work() -> str | None:
            return current_actor()

        with audit.context("caller"):
            assert work() == "caller"

    def test_one_scope_shared_by_threads_and_tasks(self) -> None:
        # A module-level scope used by concurrent workers.
        scope = audit.context("worker")

        async def job(delay: float) -> str | None:
            with scope:
                await asyncio.sleep(delay)
                return current_actor()

        async def main() -> list[str | None]:
            return list(await asyncio.gather(job(0.03), job(0.01)))

        assert asyncio.run(main()) == ["worker", "worker"]
        barrier = threading.Barrier(2)

        def thread_job(delay: float) -> str | None:
            with scope:
                barrier.wait()
                time.sleep(delay)
                return current_actor()

        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(thread_job, (0.03, 0.01))) == ["worker", "worker"]
        assert current() is None

    def test_decorates_an_object_with_an_async_call(self) -> None:
        class Job:
            async def __call__(self) -> str | None:
                return current_actor()

        assert asyncio.run(audit.context("obj")(Job())()) == "obj"

    def test_decorates_a_function_marked_as_a_coroutine_function(self) -> None:
        # asgiref's marker, as Django's middleware uses it.
        async def body() -> str | None:
            return current_actor()

        def marked() -> Any:
            return body()

        markcoroutinefunction(marked)
        assert asyncio.run(audit.context("marked")(marked)()) == "marked"

    def test_refuses_generator_functions(self) -> None:
        def numbers() -> Iterator[int]:
            yield 1

        async def anumbers() -> AsyncIterator[int]:
            yield 1

        for func in (numbers, anumbers):
            with pytest.raises(TypeError, match="cannot decorate the generator function"):
                audit.context("gen")(func)


class SharedContextTests(SimpleTestCase):
    """Scopes that share one context and are left in another order than they
    were entered: Django 6.1 runs the async receivers of a send side by side in
    one context."""

    def test_a_scope_left_before_one_entered_after_it(self) -> None:
        first, second = audit.context("first"), audit.context("second")
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        assert current_actor() == "second"  # (it was None: first's token reset it)
        second.__exit__(None, None, None)
        assert current() is None  # (it was "first": second restored what it found)

    def test_async_receivers_of_one_send_each_see_their_own_actor(self) -> None:
        signal = Signal()
        seen: dict[str, Any] = {}
        b_entered = asyncio.Event()

        async def a(sender: Any, **kwargs: Any) -> None:
            with audit.context("alice"):
                await b_entered.wait()  # b enters its scope inside a's

        async def b(sender: Any, **kwargs: Any) -> None:
            await asyncio.sleep(0)
            with audit.context("bob"):
                b_entered.set()
                await asyncio.sleep(0.01)  # a leaves its scope meanwhile
                seen["b"] = current_actor()

        signal.connect(a, weak=False)
        signal.connect(b, weak=False)

        async def send() -> Any:
            await signal.asend(sender=None)
            return current()

        assert asyncio.run(send()) is None
        assert seen["b"] == "bob"

    def overlapping_receivers(self, *, own_task: bool) -> dict[str, Any]:
        """The actor each of two async receivers of one send sees while the
        other's scope is entered; with ``own_task``, each enters its scope in
        a task of its own, as docs/audit.rst advises."""
        signal = Signal()
        seen: dict[str, Any] = {}
        a_entered, b_entered, a_done = asyncio.Event(), asyncio.Event(), asyncio.Event()

        @audit.context("alice")
        async def a_work() -> None:
            a_entered.set()
            await b_entered.wait()
            seen["a"] = current_actor()
            a_done.set()

        @audit.context("bob")
        async def b_work() -> None:
            await a_entered.wait()
            b_entered.set()
            await a_done.wait()
            seen["b"] = current_actor()

        async def a(sender: Any, **kwargs: Any) -> None:
            await (asyncio.create_task(a_work()) if own_task else a_work())

        async def b(sender: Any, **kwargs: Any) -> None:
            await (asyncio.create_task(b_work()) if own_task else b_work())

        signal.connect(a, weak=False)
        signal.connect(b, weak=False)
        asyncio.run(signal.asend(sender=None))
        return seen

    def test_async_receivers_of_one_send_share_a_scope_while_it_lasts_on_django_61(
        self,
    ) -> None:
        # Django 6.1 runs them as tasks of one context: as the docs warn, a's
        # changes made while b's scope is entered would be b's actor's.
        shared = hasattr(dispatcher, "_run_parallel")
        assert self.overlapping_receivers(own_task=False) == {
            "a": "bob" if shared else "alice",
            "b": "bob",
        }

    def test_a_scope_entered_in_a_task_of_its_own_stays_its_own(self) -> None:
        assert self.overlapping_receivers(own_task=True) == {"a": "alice", "b": "bob"}


class ResolveActorTests(SimpleTestCase):
    def test_a_user_is_named_by_its_key_any_other_model_by_label_and_key(self) -> None:
        user = User(pk=7, username="ann")
        owner = Owner(pk=7, name="acme")
        assert resolve_actor(user) == ("7", "ann")
        assert resolve_actor(owner) == ("auditapp.owner:7", "acme")
        assert resolve_actor(Owner(name="unsaved")) == ("", "unsaved")
        assert resolve_actor("cron") == ("", "cron")

    def test_a_deleted_instance_keeps_the_key_an_event_named_it_by(self) -> None:
        user = User(pk=7, username="ann")
        user._state.adding = False  # as loaded from the database
        assert resolve_actor(user) == ("7", "ann")
        user.pk = None  # as delete() leaves it
        assert resolve_actor(user) == ("7", "ann")
        user._state.adding = True  # a copy about to be inserted as a new row
        assert resolve_actor(user) == ("", "ann")
        assert resolve_actor(User(username="new")) == ("", "new")

    @isolate_apps("tests.auditapp")
    def test_resolving_an_actor_again_writes_nothing_on_it(self) -> None:
        # (Resolved for every event: the key it is known by is written only
        # when it is new.)
        written: list[str] = []

        class CountingUser(User):
            class Meta:
                proxy = True
                app_label = "auditapp"

            def __setattr__(self, name: str, value: Any) -> None:
                written.append(name)
                super().__setattr__(name, value)

        user = CountingUser(pk=7, username="ann")
        user._state.adding = False  # as loaded from the database
        written.clear()
        assert resolve_actor(user) == ("7", "ann")
        assert written == ["_signalkit_audit_pk"]
        assert resolve_actor(user) == ("7", "ann")
        assert resolve_actor(user) == ("7", "ann")
        assert written == ["_signalkit_audit_pk"]
        user.pk = 8  # (a new key is remembered)
        written.clear()
        assert resolve_actor(user) == ("8", "ann")
        assert written == ["_signalkit_audit_pk"]
        user.pk = None  # as delete() leaves it
        assert resolve_actor(user) == ("8", "ann")

    @isolate_apps("tests.auditapp")
    def test_resolving_an_actor_with_a_composite_key_again_writes_nothing_on_it(self) -> None:
        written: list[str] = []

        class Seat(models.Model):
            pk = models.CompositePrimaryKey("row", "number")
            row = models.CharField(max_length=2)
            number = models.IntegerField()

            class Meta:
                app_label = "auditapp"

            def __str__(self) -> str:
                return f"{self.row}{self.number}"

            def __setattr__(self, name: str, value: Any) -> None:
                written.append(name)
                super().__setattr__(name, value)

        seat = Seat(row="B", number=12)
        written.clear()
        for _ in range(2):
            assert resolve_actor(seat) == ("auditapp.seat:('B', 12)", "B12")
        assert written == ["_signalkit_audit_pk"]

    def test_a_user_without_a_username_has_no_name_rather_than_none(self) -> None:
        class Nameless:  # a user model's instance whose USERNAME_FIELD is empty
            pk = 8
            is_anonymous = False

            def get_username(self) -> Any:
                return None

        assert resolve_actor(Nameless()) == ("8", "")

    def test_an_actor_that_returns_itself_when_called_is_no_endless_loop(self) -> None:
        class Loop:
            def __call__(self) -> Loop:
                return self

        with self.assertLogs("signalkit.audit", "WARNING") as logs:
            assert resolve_actor(Loop()) == ("", "")
        assert "could not resolve the audit actor" in logs.output[0]

    def test_an_actor_that_cannot_be_resolved_is_logged(self) -> None:
        def broken() -> Any:
            raise RuntimeError("no session")

        with self.assertLogs("signalkit.audit", "WARNING") as logs:
            assert resolve_actor(broken) == ("", "")
        assert "could not resolve the audit actor" in logs.output[0]
