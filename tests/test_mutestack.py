"""A mute ends with its block, also for the contexts copied inside it (a task, an
executor job), whatever is muted elsewhere in the process meanwhile."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
from django.dispatch import Signal

from signalkit import gate
from signalkit.testing import mute_signals

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ping = Signal()
other = Signal()
heard: list[Any] = []


def on_ping(sender: Any, **kwargs: Any) -> None:
    heard.append(sender)


@pytest.fixture(autouse=True)
def connected() -> Iterator[None]:
    heard.clear()
    ping.connect(on_ping)
    yield
    ping.disconnect(on_ping)
    assert gate.active_mutes() == ()


def while_another_thread_mutes(call: Callable[[], object], muter: mute_signals) -> None:
    """Run ``call`` here while another thread is inside ``muter``'s block."""
    entered, done = threading.Event(), threading.Event()

    def hold() -> None:
        with muter:
            entered.set()
            done.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    entered.wait()
    try:
        call()
    finally:
        done.set()
        thread.join()


# The mutes other threads hold: one of another signal as a whole (the gate puts
# its check on send), one of one sender of it (the gate filters receivers).
OTHER_MUTES = [
    pytest.param(lambda: mute_signals(other), id="whole-signal"),
    pytest.param(lambda: mute_signals(other, sender="someone"), id="one-sender"),
]
# The mutes the copied context was copied in: the same two shapes.
COPIED_MUTES = [
    pytest.param(lambda: mute_signals(ping), id="copied-whole-signal"),
    pytest.param(lambda: mute_signals(ping, sender="copied"), id="copied-one-sender"),
]


class CopiedContextTests:
    @pytest.mark.parametrize("other_mute", OTHER_MUTES)
    @pytest.mark.parametrize("copied_mute", COPIED_MUTES)
    def test_not_muted_after_the_block_while_another_thread_mutes(
        self, copied_mute: Callable[[], mute_signals], other_mute: Callable[[], mute_signals]
    ) -> None:
        with copied_mute():
            copied = contextvars.copy_context()
        while_another_thread_mutes(lambda: copied.run(ping.send, "copied"), other_mute())
        copied.run(ping.send, "copied")
        assert heard == ["copied", "copied"]

    def test_not_muted_after_the_block_inside_another_block_of_this_thread(self) -> None:
        with mute_signals(ping):
            copied = contextvars.copy_context()
        with mute_signals(other, sender="unrelated"):
            copied.run(ping.send, "copied")
        assert heard == ["copied"]

    def test_muted_by_a_block_of_its_own_as_usual(self) -> None:
        with mute_signals(ping):
            copied = contextvars.copy_context()

        def muted_there() -> None:
            with mute_signals(ping, sender="copied"):
                ping.send("copied")
                ping.send("other")

        copied.run(muted_there)
        assert heard == ["other"]

    def test_holds_no_mute_after_the_block(self) -> None:
        with mute_signals(ping):
            copied = contextvars.copy_context()
            assert len(copied.run(gate.active_mutes)) == 1
        assert copied.run(gate.active_mutes) == ()

    def test_a_mute_left_out_of_order_ends_for_the_copies_too(self) -> None:
        # enter() and leave() called by hand, the older block left first.
        first, second = gate.Mute([ping]), gate.Mute([other])
        gate.enter(first)
        gate.enter(second)
        copied = contextvars.copy_context()
        gate.leave(first)
        try:
            assert copied.run(gate.active_mutes) == (second,)
            copied.run(ping.send, "copied")
        finally:
            gate.leave(second)
        assert heard == ["copied"]

    def test_executor_job_submitted_in_the_block(self) -> None:
        release = threading.Event()

        def job() -> None:
            release.wait()
            ping.send("job")

        with ThreadPoolExecutor(max_workers=1) as pool:
            with mute_signals(ping):
                future = pool.submit(contextvars.copy_context().run, job)

            def finish() -> None:
                release.set()
                future.result()

            # The job sends once the block has ended, while another thread mutes.
            while_another_thread_mutes(finish, mute_signals(other))
        assert heard == ["job"]

    def test_asyncio_task_created_in_the_block(self) -> None:
        async def main() -> None:
            go = asyncio.Event()

            async def background() -> None:
                await go.wait()
                ping.send("task")

            with mute_signals(ping):
                task = asyncio.create_task(background())
                await asyncio.sleep(0)
            go.set()
            await task

        while_another_thread_mutes(lambda: asyncio.run(main()), mute_signals(other))
        assert heard == ["task"]
