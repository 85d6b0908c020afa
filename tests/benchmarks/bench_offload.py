"""Offload benchmarks (``make bench``): what an offloaded receiver costs at send
time, and how fast one worker drains 1,000 offloaded sends next to the same
receivers run inline."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pytest
from django.db import connections, transaction
from django.test import TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext

from tests.offloadapp.models import Article, Effect
from tests.offloadapp.signals import record_save
from tests.workers import require_services, run_worker, worker_settings

SENDS = 1000


@pytest.fixture(scope="session", autouse=True)
def _services() -> None:
    require_services()


class OffloadBenchmarkTests(TransactionTestCase):
    databases: ClassVar[Any] = {"default", "offload"}

    def test_inserts_at_send_time_per_offloaded_receiver(self) -> None:
        for delivery in ("on_commit", "outbox"):
            with (
                override_settings(**worker_settings("database", DELIVERY=delivery)),
                CaptureQueriesContext(connections["offload"]) as queries,
                transaction.atomic(using="offload"),
            ):
                Article.objects.using("offload").create(title="Counted")
            inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
            task_inserts = [sql for sql in inserts if "django_tasks_database" in sql]
            print(
                f"\noffload send ({delivery}): {len(inserts)} INSERTs, of which "
                f"{len(task_inserts)} for the one offloaded receiver (target <= 1)"
            )
            assert len(task_inserts) <= 1

    def test_throughput_of_one_worker_next_to_inline(self) -> None:
        articles = [Article(title=f"Article {n}") for n in range(SENDS)]
        Article.objects.using("offload").bulk_create(articles)

        start = time.perf_counter()
        for article in articles:
            record_save(
                Article,
                instance=article,
                created=True,
                update_fields=None,
                using="offload",
                idempotency_key="inline",
            )
        inline = time.perf_counter() - start
        Effect.objects.using("offload").all().delete()
        print(f"\ninline: {SENDS} receiver calls in {inline:.2f}s ({SENDS / inline:,.0f}/s)")

        for backend in ("database", "rq"):
            with override_settings(**worker_settings(backend)):
                start = time.perf_counter()
                run_worker(backend)  # an empty queue: the worker's start-up cost
                startup = time.perf_counter() - start
                start = time.perf_counter()
                with transaction.atomic(using="offload"):
                    for article in articles:
                        article.save(using="offload", update_fields=["title"])
                enqueue = time.perf_counter() - start
                start = time.perf_counter()
                run_worker(backend, timeout=900)
                drain = time.perf_counter() - start - startup
            assert Effect.objects.using("offload").count() == SENDS
            Effect.objects.using("offload").all().delete()
            print(
                f"{backend} backend: {SENDS} offloaded sends enqueued in {enqueue:.2f}s "
                f"({SENDS / enqueue:,.0f}/s); one worker ran them in {drain:.2f}s "
                f"({SENDS / drain:,.0f}/s, start-up of {startup:.2f}s excluded)"
            )
