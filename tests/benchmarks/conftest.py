"""Benchmark helpers; ``bench_*.py`` files are collected as test modules (``make bench``)."""

from __future__ import annotations

import timeit
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def best_of(func: Callable[[], object], *, number: int = 20_000, repeat: int = 7) -> float:
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number


def paired(
    ours: Callable[[], object],
    baseline: Callable[[], object],
    *,
    number: int = 20_000,
    rounds: int = 9,
) -> tuple[float, float]:
    """Seconds per call of both, measured in alternation so that load on the machine
    hits both alike; the best round of each."""
    best_ours = best_baseline = float("inf")
    for _ in range(rounds):
        best_ours = min(best_ours, timeit.timeit(ours, number=number) / number)
        best_baseline = min(best_baseline, timeit.timeit(baseline, number=number) / number)
    return best_ours, best_baseline


def report(title: str, rows: list[tuple[str, float, float, float]]) -> None:
    """Print ``(label, ours, baseline, target)`` rows side by side with their ratios."""
    width = max(58, *(len(label) for label, *_ in rows))
    print(f"\n{title}")
    print(f"  {'measure':<{width}} {'signalkit':>10} {'baseline':>10} {'ratio':>7} {'target':>7}")
    for label, ours, baseline, target in rows:
        ratio = ours / baseline
        verdict = "ok" if ratio <= target else "MISSED"
        print(
            f"  {label:<{width}} {ours * 1e6:>8.2f}us {baseline * 1e6:>8.2f}us "
            f"{ratio:>6.2f}x {target:>6.2f}x {verdict}"
        )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    # A file named on the command line is collected by pytest itself.
    if parent.session.isinitpath(file_path):
        return None
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None
