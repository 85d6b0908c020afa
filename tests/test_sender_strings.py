"""A string sender matches the same string, whatever model label it resembles."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from signalkit.gate import Mute, muting
from signalkit.testing import capture_signals


def test_capture_matches_the_very_string_sender_that_was_sent() -> None:
    signal = Signal()
    with capture_signals(signal) as capture:
        signal.send(sender="testapp.author")
    # The same string as the send's sender: it was sent from it.
    capture.assert_sent(signal, sender="testapp.author")


def test_mute_matches_an_equal_string_sender() -> None:
    calls: list[Any] = []
    signal = Signal()

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append(sender)

    signal.connect(receiver, weak=False)
    label = "".join(["testapp.", "author"])  # equal, not the same object
    with muting(Mute([signal], sender="testapp.author")):
        signal.send(sender=label)
    assert calls == []
