from __future__ import annotations

import asyncio

import pytest
from django.test import SimpleTestCase

import signalkit.audit as audit
from signalkit.audit.context import current


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
