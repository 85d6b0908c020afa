"""Send-time cost of signalkit's receiver API and toggles against plain Django.

Run with ``make bench``; prints the ratios side by side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

from django.dispatch import Signal, receiver
from django.test import override_settings

import signalkit
from tests.benchmarks.conftest import paired, report

_IDLE_SCRIPT = textwrap.dedent(
    """
    import json, sys, timeit
    import django
    from django.conf import settings
    apps = ["django.contrib.contenttypes", "django.contrib.auth"]
    if sys.argv[1] == "signalkit":
        apps.append("signalkit")
    settings.configure(INSTALLED_APPS=apps, DATABASES={})
    django.setup()
    from django.dispatch import Signal
    signal = Signal()
    def receiver(sender, **kwargs):
        return None
    signal.connect(receiver)
    send = lambda: signal.send(None, value=1)
    print(json.dumps(min(timeit.repeat(send, number=50_000, repeat=9)) / 50_000))
    """
)


def _idle_send(mode: str) -> float:
    # The same hash seed in both processes, so dict layouts do not differ by chance.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out = subprocess.run(
        [sys.executable, "-c", _IDLE_SCRIPT, mode],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return float(json.loads(out.stdout))


def _receivers(count: int) -> list[Any]:
    def make(index: int) -> Any:
        def on_signal(sender: Any, **kwargs: Any) -> None:
            return None

        on_signal.__qualname__ = f"on_signal_{index}"
        return on_signal

    return [make(index) for index in range(count)]


def test_receiver_send_costs() -> None:
    # 1. signalkit installed, no toggle or mute: separate processes with and without it.
    with_signalkit = without = float("inf")
    for _ in range(5):
        with_signalkit = min(with_signalkit, _idle_send("signalkit"))
        without = min(without, _idle_send("plain"))

    # 2. ten receivers, one toggled off, against Django sending to the nine others.
    functions = _receivers(10)
    ten, nine = Signal(), Signal()
    for function in functions:
        ten.connect(function)
    for function in functions[:9]:
        nine.connect(function)
    off = {f"{__name__}.on_signal_9": False}
    with override_settings(SIGNALKIT={"RECEIVERS": off}):
        assert len(ten.send(None, value=1)) == 9
        toggled_cost, nine_cost = paired(
            lambda: ten.send(None, value=1), lambda: nine.send(None, value=1)
        )

    # 3. signalkit.receiver against django.dispatch.receiver for an enabled receiver.
    ours, theirs = Signal(), Signal()
    (function,) = _receivers(1)
    signalkit.receiver(ours, name="bench.enabled")(function)
    receiver(theirs)(function)
    ours_cost, theirs_cost = paired(
        lambda: ours.send(None, value=1), lambda: theirs.send(None, value=1)
    )

    # 4. signalkit.Signal's send_robust (which logs failures by key) against Django's.
    robust_ours, robust_theirs = signalkit.Signal(), Signal()
    for function in functions:
        robust_ours.connect(function)
        robust_theirs.connect(function)
    robust_cost, django_robust_cost = paired(
        lambda: robust_ours.send_robust(None, value=1),
        lambda: robust_theirs.send_robust(None, value=1),
    )

    report(
        "Receivers and toggles (send time per call)",
        [
            ("send, signalkit installed, no toggle/mute vs without", with_signalkit, without, 1.02),
            ("send to 10 receivers, 1 toggled off vs Django to 9", toggled_cost, nine_cost, 1.10),
            ("signalkit.receiver vs django.dispatch.receiver", ours_cost, theirs_cost, 1.02),
            (
                "signalkit.Signal.send_robust vs Django's, 10 receivers",
                robust_cost,
                django_robust_cost,
                1.02,
            ),
        ],
    )
