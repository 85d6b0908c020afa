"""Captures and the gate replace ``Signal.send`` under one lock: a capture entered
in one thread while a mute ends in another keeps its wrapper."""

from __future__ import annotations

import inspect
import sys
import threading
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

from signalkit import gate
from signalkit.gated import _original_send
from signalkit.testing import capture_signals

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

    from signalkit.testing import Capture

plain = Signal()
#: Long enough for a thread that is not blocked to enter a capture.
UNBLOCKED = 0.5


def line_of(function: Callable[..., Any], text: str) -> int:
    lines, first = inspect.getsourcelines(function)
    return first + next(index for index, line in enumerate(lines) if text in line)


def paused_at(
    function: Callable[..., Any], line: int, paused: threading.Event, resume: threading.Event
) -> Any:
    """A trace function for ``sys.settrace`` that stops the thread before ``line``
    of ``function`` runs, until ``resume`` is set."""

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line" and frame.f_lineno == line:
            paused.set()
            resume.wait(5)
        return local

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code is function.__code__ else None

    return trace


class CaptureAndGateTests:
    def test_a_capture_entered_while_a_mute_ends_keeps_its_wrapper(self) -> None:
        # The gate reads Signal.send, and replaces it: a capture that wrapped it
        # in between would lose its wrapper, and record nothing.
        mute = gate.Mute((plain,))
        paused, resume = threading.Event(), threading.Event()
        installed, left = threading.Event(), threading.Event()
        captures: list[Capture] = []
        line = line_of(gate._stand_down, "Signal.send = _original_send")

        def end_a_mute() -> None:
            gate.enter(mute)
            previous = sys.gettrace()
            sys.settrace(paused_at(gate._stand_down, line, paused, resume))
            try:
                gate.leave(mute)
            finally:
                sys.settrace(previous)

        def capture() -> None:
            with capture_signals(plain) as captured:
                installed.set()
                left.wait(5)
                plain.send("sent")
            captures.append(captured)

        leaving = threading.Thread(target=end_a_mute)
        capturing = threading.Thread(target=capture)
        leaving.start()
        assert paused.wait(5), "the mute did not reach the line that replaces Signal.send"
        capturing.start()
        # The mute has read Signal.send: a capture entered now waits for it to end.
        installed.wait(UNBLOCKED)
        resume.set()
        leaving.join(5)
        left.set()
        capturing.join(5)
        assert [str(call) for call in captures[0].calls] == [
            f"{__name__}.plain.send(sender='sent')"
        ]
        assert Signal.__dict__["send"] is _original_send

    def test_a_capture_waits_for_the_gates_lock_to_start_and_to_end(self) -> None:
        installed, done = threading.Event(), threading.Event()
        before = Signal.__dict__["send"]

        def capture() -> None:
            with capture_signals():
                installed.set()
                done.wait(5)

        thread = threading.Thread(target=capture)
        with gate.lock:
            thread.start()
            assert not installed.wait(UNBLOCKED)
            assert Signal.__dict__["send"] is before
        assert installed.wait(5)
        assert Signal.__dict__["send"] is not before
        with gate.lock:
            done.set()
            thread.join(UNBLOCKED)
            assert thread.is_alive()
            assert Signal.__dict__["send"] is not before
        thread.join(5)
        assert Signal.__dict__["send"] is before
