"""Registry and listsignals performance, with 200 models and 1,000 receivers.

Targets: ``registry.receivers()`` plus text rendering < 100 ms; ``manage.py
listsignals`` adds < 150 ms to ``manage.py check``. Everything runs in fresh
subprocesses with ``tests.benchmarks.settings``; the best of several runs counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

RUNS = 5
ENV = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings", "PYTHONPATH": "."}

IN_PROCESS = textwrap.dedent(
    """
    import time
    import django
    django.setup()
    from signalkit.registry import registry
    from signalkit.render import listing, text

    def once():
        start = time.perf_counter()
        receivers = registry.receivers()
        out = text(listing())
        return time.perf_counter() - start, len(receivers), len(out)

    cold = once()
    warm = min(once()[0] for _ in range(5))
    print(cold[0], warm, cold[1])
    """
)


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=ENV, capture_output=True, text=True, check=True
    )


def _wall(*args: str) -> float:
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        _python("-m", "django", *args)
        best = min(best, time.perf_counter() - start)
    return best


def _report(what: str, seconds: float, target_ms: float) -> None:
    verdict = "ok" if seconds * 1000 < target_ms else "OVER TARGET"
    print(f"  {what:<55} {seconds * 1000:7.1f} ms  (target < {target_ms:.0f} ms)  {verdict}")


class RegistryBenchTests:
    def test_receivers_and_text_rendering(self) -> None:
        runs = [_python("-c", IN_PROCESS).stdout.split() for _ in range(RUNS)]
        cold = min(float(run[0]) for run in runs)
        warm = min(float(run[1]) for run in runs)
        count = int(runs[0][2])
        assert count >= 1000
        print(f"\nregistry.receivers() + text rendering, {count} receivers:")
        _report("first call (includes the module scan)", cold, 100)
        _report("later calls", warm, 100)

    def test_listsignals_against_check(self) -> None:
        check = _wall("check")
        listsignals = _wall("listsignals")
        print(f"\nmanage.py wall time (best of {RUNS}):")
        print(f"  check {check * 1000:.1f} ms, listsignals {listsignals * 1000:.1f} ms")
        _report("listsignals - check", listsignals - check, 150)
