"""The gate when another library replaces it (instead of wrapping it) with a
sentry-sdk-like wrapper of ``Signal._live_receivers``: the next mute puts it back."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from django.dispatch import Signal

from signalkit import gate
from signalkit.gate import Mute, muting

DJANGO_LIVE = Signal.__dict__["_live_receivers"]


def sentry_like(old: Any) -> Any:
    """sentry-sdk's patch_signals(): wraps ``old`` and each sync receiver it returns."""

    @functools.wraps(old)
    def _sentry_live_receivers(self: Signal, sender: Any) -> Any:
        sync_receivers, async_receivers = old(self, sender)

        def wrap(receiver: Any) -> Any:
            @functools.wraps(receiver)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return receiver(*args, **kwargs)

            return wrapper

        for index, receiver in enumerate(sync_receivers):
            sync_receivers[index] = wrap(receiver)
        return sync_receivers, async_receivers

    return _sentry_live_receivers


@pytest.fixture(autouse=True)
def _restore() -> Any:
    yield
    Signal._live_receivers = DJANGO_LIVE  # type: ignore[method-assign]
    gate.refresh()


def _setup() -> tuple[Signal, list[str], Any]:
    calls: list[str] = []
    signal = Signal()

    def noisy(sender: Any, **kwargs: Any) -> None:
        calls.append("noisy")

    signal.connect(noisy, weak=False)
    return signal, calls, noisy


def test_library_reinstalling_its_wrapper_over_djangos_method_during_a_mute() -> None:
    """A library that (re)installs its wrapper over the method it saved
    (Django's own) while a mute is active replaces the gate instead of wrapping
    it. Once that mute ends, later mutes must still work."""
    signal, calls, noisy = _setup()
    with muting(Mute(receivers=["unrelated.key"])):
        Signal._live_receivers = sentry_like(DJANGO_LIVE)  # type: ignore[method-assign]
    # No mute active any more; a new one must silence the receiver.
    with muting(Mute(receivers=[noisy])):
        signal.send(None)
    assert calls == []


def test_library_restoring_its_saved_wrapper_under_the_gate() -> None:
    """sentry installed first (S), a second wrapper L(S) installed by a test
    fixture, a mute enters (gate over L), the fixture restores S while the mute
    is active (non-LIFO teardown). After that mute, mutes must work again."""
    signal, calls, noisy = _setup()
    sentry = sentry_like(DJANGO_LIVE)
    Signal._live_receivers = sentry  # type: ignore[method-assign]
    Signal._live_receivers = sentry_like(sentry)  # type: ignore[method-assign]
    gate.enter(outer := Mute(receivers=["unrelated.key"]))
    Signal._live_receivers = sentry  # type: ignore[method-assign]  # fixture teardown
    gate.leave(outer)
    with muting(Mute(receivers=[noisy])):
        signal.send(None)
    assert calls == []
