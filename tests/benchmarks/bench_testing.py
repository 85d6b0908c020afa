"""Costs of signalkit.testing's mutes against factory_boy's and plain Django.

Run with ``make bench``; prints the ratios side by side.
"""

from __future__ import annotations

import timeit
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import Signal
from django.test.utils import CaptureQueriesContext
from factory.django import mute_signals as factory_mute_signals

from signalkit.testing import mute_signals
from tests.benchmarks.conftest import paired, report
from tests.testapp.models import Author
from tests.testingapp.models import Entry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

MODEL_SIGNALS = (pre_save, post_save, pre_delete, post_delete, m2m_changed)


def make_receiver(index: int) -> Any:
    def receiver(sender: Any, **kwargs: Any) -> None:
        return None

    receiver.__qualname__ = f"receiver_{index}"
    return receiver


@pytest.fixture
def hundred_receivers() -> Iterator[None]:
    receivers = [make_receiver(index) for index in range(100)]
    for signal in MODEL_SIGNALS:
        for receiver in receivers:
            signal.connect(receiver, sender=Author)
    yield
    for signal in MODEL_SIGNALS:
        for receiver in receivers:
            signal.disconnect(receiver, sender=Author)


def delete_queries(count: int = 1000) -> int:
    Entry.objects.bulk_create(Entry(number=number) for number in range(count))
    with CaptureQueriesContext(connection) as queries:
        Entry.objects.all().delete()
    return len(queries)


def mute_block(factory: Callable[..., Any], *signals: Signal) -> Callable[[], None]:
    def run() -> None:
        with factory(*signals):
            pass

    return run


@pytest.mark.django_db
@pytest.mark.usefixtures("hundred_receivers")
def test_testing_costs() -> None:
    author = Author(name="bench")
    rows: list[tuple[str, float, float, float]] = []

    ours, baseline = paired(
        mute_block(mute_signals, post_save), mute_block(factory_mute_signals, post_save)
    )
    rows.append(("enter+exit, 1 signal, 100 receivers (vs factory_boy)", ours, baseline, 1.0))
    ours, baseline = paired(
        mute_block(mute_signals, *MODEL_SIGNALS), mute_block(factory_mute_signals, *MODEL_SIGNALS)
    )
    rows.append(
        ("enter+exit, 5 model signals, 100 receivers each (vs factory_boy)", ours, baseline, 1.0)
    )

    # The baseline is timed with no mute active anywhere (signalkit idle), in
    # alternation with the muted sends.
    silent = Signal(use_caching=True)
    ours = baseline = float("inf")
    number = 100_000
    for _ in range(9):
        with mute_signals(post_save):
            ours = min(
                ours,
                timeit.timeit(
                    lambda: post_save.send(Author, instance=author, created=False, raw=False),
                    number=number,
                )
                / number,
            )
        baseline = min(
            baseline,
            timeit.timeit(
                lambda: silent.send(Author, instance=author, created=False, raw=False),
                number=number,
            )
            / number,
        )
    rows.append(("send of muted post_save, 100 receivers (vs no receivers)", ours, baseline, 1.5))

    # A mute of some receivers filters each send of every signal while it is
    # active: a send to receivers it does not name, against the same send with
    # no mute active anywhere.
    ten = Signal()
    receivers = [make_receiver(index) for index in range(10)]
    for receiver in receivers:
        ten.connect(receiver)
    other = mute_signals(receivers=[make_receiver(10)])
    ours = baseline = float("inf")
    for _ in range(9):
        with other:
            ours = min(ours, timeit.timeit(lambda: ten.send(None, value=1), number=20_000) / 20_000)
        baseline = min(
            baseline, timeit.timeit(lambda: ten.send(None, value=1), number=20_000) / 20_000
        )
    rows.append(("send to 10 receivers, another receiver muted (vs no mute)", ours, baseline, 1.1))

    pre_delete.connect(make_receiver(-1), sender=Entry, weak=False, dispatch_uid="bench")
    post_delete.connect(make_receiver(-2), sender=Entry, weak=False, dispatch_uid="bench")
    try:
        with mute_signals(pre_delete, post_delete):
            muted_queries = delete_queries()
    finally:
        pre_delete.disconnect(sender=Entry, dispatch_uid="bench")
        post_delete.disconnect(sender=Entry, dispatch_uid="bench")
    unconnected_queries = delete_queries()

    report("signalkit.testing", rows)
    label = "queries of a 1,000-row delete, delete receivers muted (vs none)"
    verdict = "ok" if muted_queries == unconnected_queries else "MISSED"
    print(
        f"  {label:<66} {muted_queries:>10} {unconnected_queries:>10} "
        f"{muted_queries / unconnected_queries:>6.2f}x {1.0:>6.2f}x {verdict}"
    )
    assert muted_queries == unconnected_queries
