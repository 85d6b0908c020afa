"""Which of signalkit's functions a send runs through on the hot paths.

Not timed: these list the Python functions of signalkit that one send calls, so
that a helper call added to a path that runs on every send shows up here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.dispatch import Signal
from django.test import override_settings

import signalkit
from signalkit.gate import Mute, muting

_PACKAGE = str(Path(signalkit.__file__).parent)


def signalkit_calls(send: Any) -> list[str]:
    """The signalkit functions that ``send()`` calls, in call order."""
    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename.startswith(_PACKAGE):
            calls.append(frame.f_code.co_qualname)

    sys.setprofile(profile)
    try:
        send()
    finally:
        sys.setprofile(None)
    return calls


def receiver(sender: Any, **kwargs: Any) -> None:
    return None


def other(sender: Any, **kwargs: Any) -> None:
    return None


def test_a_send_while_toggles_are_on_reads_the_toggled_receivers_directly() -> None:
    signal = Signal()
    signal.connect(receiver)
    with override_settings(SIGNALKIT={"RECEIVERS": {f"{__name__}.other": False}}):
        assert signal.send(None) == [(receiver, None)]
        calls = signalkit_calls(lambda: signal.send(None))
    assert calls == ["_gated_live_receivers", "toggled_entries"]


def test_a_signal_whose_receivers_are_all_switched_off_costs_the_same_calls() -> None:
    signal = Signal()
    signal.connect(receiver)
    with override_settings(SIGNALKIT={"RECEIVERS": {f"{__name__}.receiver": False}}):
        assert signal.send(None) == []
        calls = signalkit_calls(lambda: signal.send(None))
    assert calls == ["_gated_live_receivers", "toggled_entries"]


def test_a_mute_of_another_signal_is_not_asked_about_this_one() -> None:
    signal, muted = Signal(), Signal()
    signal.connect(receiver)
    with muting(Mute([muted], receivers=[other])):
        assert signal.send(None) == [(receiver, None)]
        calls = signalkit_calls(lambda: signal.send(None))
    assert calls == ["_gated_live_receivers", "_applying", "toggled_entries"]


@pytest.mark.django_db(transaction=True)
def test_an_on_commit_receiver_registers_its_call_without_detours() -> None:
    signal = Signal()
    signalkit.receiver(signal, on_commit=True)(receiver)
    with transaction.atomic():
        calls = signalkit_calls(lambda: signal.send(None))
    assert calls == ["DeferredReceiver.__call__", "in_this_context"]
