"""A test case whose muted signal is defined after it, in its own module."""

from __future__ import annotations

from django.dispatch import Signal
from django.test import SimpleTestCase

from signalkit import gate
from signalkit.testing import MuteSignalsMixin


class LateSignalCase(MuteSignalsMixin, SimpleTestCase):
    muted_signals = ["tests.mute_late.order_placed"]

    def test_muted(self) -> None:
        [mute] = gate.active_mutes()
        assert mute.signal_ids == frozenset({id(order_placed)})


order_placed = Signal()
