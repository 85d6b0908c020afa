"""Audit overhead: no auditing vs signalkit vs the peers, same models, same workloads.

Run with ``make bench`` (``SIGNALKIT_TEST_DB=postgres make bench`` for PostgreSQL).
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from typing import TYPE_CHECKING, Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_init,
    post_save,
    pre_delete,
    pre_save,
)
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

import signalkit.audit as audit
from signalkit.models import AuditEvent
from tests.benchmarks import minimal
from tests.benchmarks.benchapp.models import (
    AuditlogItem,
    MinimalItem,
    NoopItem,
    PlainItem,
    SignalkitItem,
    Tag,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

N = int(os.environ.get("BENCH_N", "2000"))
AUTOCOMMIT_N = 400
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
# BENCH_CLOCK=cpu measures this process's CPU time: steadier on a busy machine,
# but blind to the time a PostgreSQL server spends.
CLOCK = time.process_time if os.environ.get("BENCH_CLOCK") == "cpu" else time.perf_counter
WORKLOADS = ("create", "update", "m2m add", "delete", f"{AUTOCOMMIT_N} autocommit creates")


def noop(sender: Any, **kwargs: Any) -> None:
    return None


# The signals signalkit's audit receivers listen to, per audited model.
AUDIT_SIGNALS = (post_init, pre_save, post_save, pre_delete, post_delete)


@contextlib.contextmanager
def noop_receivers() -> Iterator[None]:
    """The floor of any signal-based audit log: a receiver that does nothing, on
    each signal signalkit listens to. Django alone makes this cost something: with
    an ``m2m_changed`` receiver, ``add()`` first reads which rows are missing."""
    through = NoopItem.tags.through
    for signal in AUDIT_SIGNALS:
        signal.connect(noop, sender=NoopItem)
    m2m_changed.connect(noop, sender=through)
    try:
        yield
    finally:
        for signal in AUDIT_SIGNALS:
            signal.disconnect(noop, sender=NoopItem)
        m2m_changed.disconnect(noop, sender=through)


def contenders() -> list[tuple[str, Any, Callable[[], Any]]]:
    found: list[tuple[str, Any, Callable[[], Any]]] = [
        ("no auditing", PlainItem, transaction.atomic),
        ("no-op receivers", NoopItem, transaction.atomic),
        ("minimal receivers", MinimalItem, minimal.block),
        ("signalkit", SignalkitItem, transaction.atomic),
        ("signalkit batch()", SignalkitItem, audit.batch),
    ]
    if apps.is_installed("auditlog"):
        found.append(("django-auditlog", AuditlogItem, transaction.atomic))
    if apps.is_installed("simple_history"):
        found.append(
            (
                "django-simple-history",
                apps.get_model("benchapp.SimpleHistoryItem"),
                transaction.atomic,
            )
        )
    return found


@contextlib.contextmanager
def timer(into: dict[str, list[float]], name: str) -> Iterator[None]:
    # Every workload starts with the collector's counts at zero: otherwise a full
    # collection, paid for by the garbage of earlier workloads, falls on whoever
    # happens to run when its threshold is crossed (one such takes tens of
    # milliseconds here, as much as the differences measured). What a workload
    # allocates is still collected, in its own time.
    gc.collect()
    start = CLOCK()
    yield
    into.setdefault(name, []).append(CLOCK() - start)


def cycle(model: Any, block: Callable[[], Any], times: dict[str, list[float]]) -> None:
    tags = list(Tag.objects.all())
    with timer(times, "create"), block():
        for n in range(N):
            model.objects.create(name=f"item {n}", value=n)
    items = list(model.objects.all())
    with timer(times, "update"), block():
        for item in items:
            item.value += 1
            item.save()
    with timer(times, "m2m add"), block():
        for n, item in enumerate(items):
            item.tags.add(tags[n % len(tags)])
    items = list(model.objects.all())
    with timer(times, "delete"), block():
        for item in items:
            item.delete()
    with timer(times, f"{AUTOCOMMIT_N} autocommit creates"):
        for n in range(AUTOCOMMIT_N):
            model.objects.create(name=f"auto {n}", value=n)
    model.objects.all().delete()
    empty_logs()


def empty_logs() -> None:
    """Every cycle starts from empty log tables (not timed): otherwise whoever runs
    later inserts into tables, and indexes, that the earlier contenders filled."""
    logs: list[Any] = [AuditEvent]
    if apps.is_installed("auditlog"):
        logs.append(apps.get_model("auditlog", "LogEntry"))
    logs += [
        model
        for model in apps.get_app_config("benchapp").get_models()
        if model.__name__.startswith("Historical")
    ]
    with connection.cursor() as cursor:
        for model in logs:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def queries_per_update() -> int:
    item = SignalkitItem.objects.create(name="q")
    item.value = 42
    with CaptureQueriesContext(connection) as queries:
        item.save()
    return len(queries)


@pytest.mark.django_db(transaction=True)
def test_audit_overhead() -> None:
    Tag.objects.bulk_create(Tag(name=f"tag {n}") for n in range(20))
    results: dict[str, dict[str, float]] = {}
    audited = {"AUDIT": {"MODELS": ["benchapp.SignalkitItem"]}}
    with override_settings(SIGNALKIT=audited), noop_receivers(), minimal.connected():
        # Round robin, so that a slow spell of a shared machine does not fall on
        # one contender only; the best of the repeats counts.
        times: dict[str, dict[str, list[float]]] = {}
        for _ in range(REPEATS):
            for name, model, block in contenders():
                cycle(model, block, times.setdefault(name, {}))
        for name, measured in times.items():
            results[name] = {workload: min(values) for workload, values in measured.items()}
        per_update = queries_per_update()
    report(results, per_update)


def report(results: dict[str, dict[str, float]], per_update: int) -> None:
    base = results["no auditing"]
    names = list(results)
    print(f"\n\nAudit overhead on {connection.vendor}, {N} operations in one atomic block")
    clock = "CPU time" if CLOCK is time.process_time else "wall time"
    print(f"({clock}, best of {REPEATS}; ratio = time / no auditing)\n")
    header = f"{'workload':<24}" + "".join(f"{name:>26}" for name in names)
    print(header)
    print("-" * len(header))
    for workload in WORKLOADS:
        cells = []
        for name in names:
            seconds = results[name][workload]
            ratio = seconds / base[workload]
            cells.append(f"{seconds * 1000:>9.0f} ms {ratio:>5.2f}x".rjust(26))
        print(f"{workload:<24}" + "".join(cells))
    for floor, text in (
        ("no-op receivers", "receivers that do nothing"),
        ("minimal receivers", "receivers that do the least an audit log must"),
    ):
        print(f"\nsignalkit / {floor} ({text}; not a target):")
        print(
            "  "
            + ", ".join(
                f"{workload} {results['signalkit'][workload] / results[floor][workload]:.2f}x"
                for workload in WORKLOADS
            )
        )
    ours, floor, batched = (
        results["signalkit"],
        results["minimal receivers"],
        results["signalkit batch()"],
    )
    print("\ntargets (issue #6), and what the minimal receivers reach on the same measure:")
    print(f"  {'measure':<52} {'signalkit':>9} {'target':>7} {'':<6} {'minimal':>8}")
    for workload in WORKLOADS[:4]:
        verdict(f"{workload} / no auditing", ours, floor, base, workload, 1.8)
    for workload in ("create", "update"):
        verdict(f"batch() {workload} / no auditing", batched, floor, base, workload, 1.3)
    if "django-auditlog" in results:
        peer = results["django-auditlog"]
        for workload in WORKLOADS[:4]:
            verdict(f"{workload} / django-auditlog", ours, floor, peer, workload, 0.5)
        verdict(f"{WORKLOADS[4]} / django-auditlog", ours, floor, peer, WORKLOADS[4], 1.0)
    state = "ok" if per_update == 2 else "MISSED"
    print(f"  {'queries per audited update (autocommit)':<52} {per_update:>9} {2:>7} {state}\n")
    print("(a target the minimal receivers miss too is below the floor of a")
    print("signal-based audit log on this database; see docs/audit.rst)\n")


def verdict(
    label: str,
    ours: dict[str, float],
    floor: dict[str, float],
    baseline: dict[str, float],
    workload: str,
    target: float,
) -> None:
    ratio = ours[workload] / baseline[workload]
    minimal = floor[workload] / baseline[workload]
    state = "ok" if ratio <= target else "MISSED"
    below = "" if minimal <= target else " (misses too)"
    print(f"  {label:<52} {ratio:>8.2f}x {target:>6.2f}x {state:<6} {minimal:>7.2f}x{below}")
