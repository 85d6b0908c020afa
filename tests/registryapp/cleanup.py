"""Test helper: leave no receiver on the signals tests define.

On Django 5.2 a signal lives as long as any of its weak receivers (Django's
``weakref.finalize`` holds the signal), so a test signal would outlive its test
with its receivers and show up in later listings.
"""

from __future__ import annotations

from signalkit.dispatch import defined_signals


def disconnect_test_signals() -> None:
    for signal in defined_signals():
        if signal.module.startswith("tests.test_"):
            signal.receivers.clear()
            signal.sender_receivers_cache.clear()
