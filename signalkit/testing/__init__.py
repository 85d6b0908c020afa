"""Test helpers: mute signals, capture what was sent (see ``docs/testing.rst``)."""

from __future__ import annotations

from signalkit.testing.capture import Call, Capture, capture_signals
from signalkit.testing.mute import MuteSignalsMixin, mute_signals

__all__ = ["Call", "Capture", "MuteSignalsMixin", "capture_signals", "mute_signals"]
