"""The worker side, end to end: real task backends with real worker processes.

(a) the database backend (django-tasks-db) and its ``db_worker``, (b) the RQ
backend (django-tasks-rq) and ``rqworker`` against Redis. Workers see only
committed data, so these are transactional tests on PostgreSQL.
"""

from __future__ import annotations

import decimal
import re
from typing import Any, ClassVar

import pytest
from django.db import transaction
from django.test import TestCase, TransactionTestCase, override_settings

from signalkit.offload.codec import Missing, encode
from signalkit.offload.compat import TASKS_MODULE
from signalkit.offload.tasks import run_receiver
from tests.offloadapp.models import Article, Effect
from tests.offloadapp.signals import article_event
from tests.workers import (
    BACKENDS,
    QUEUE,
    REDIS,
    require_services,
    run_worker,
    running_worker,
    wait_for,
    worker_settings,
)


@pytest.fixture(scope="session", autouse=True)
def _services() -> None:
    require_services()


def effects(receiver: str) -> list[Effect]:
    return list(Effect.objects.using("offload").filter(receiver=receiver).order_by("id"))


class WorkerTestsMixin:
    backend: ClassVar[str]
    databases: ClassVar[Any] = {"default", "offload"}

    def settings(self, **signalkit: Any) -> Any:
        return override_settings(**worker_settings(self.backend, **signalkit))

    def test_running_worker_runs_committed_send(self) -> None:
        with self.settings(), running_worker(self.backend):
            with transaction.atomic(using="offload"):
                article = Article.objects.using("offload").create(title="Live")
            wait_for(lambda: bool(effects("record_save")))
        (effect,) = effects("record_save")
        assert effect.object_pk == str(article.pk)
        assert effect.data["title"] == "Live"
        assert effect.data["created"] is True

    def test_rollback_runs_no_task(self) -> None:
        with self.settings():
            with transaction.atomic(using="offload"):
                Article.objects.using("offload").create(title="Rolled back")
                transaction.set_rollback(True, using="offload")
            Article.objects.using("offload").create(title="Committed")
            run_worker(self.backend)
        assert [effect.data["title"] for effect in effects("record_save")] == ["Committed"]

    def test_update_fields_and_values_round_trip(self) -> None:
        with self.settings():
            article = Article.objects.using("offload").create(
                title="A", price=decimal.Decimal("2.50")
            )
            article.title = "B"
            article.save(using="offload", update_fields=["title"])
            run_worker(self.backend)
        first, second = effects("record_save")
        assert first.data["update_fields"] == ["NoneType", "None"]
        assert second.data["update_fields"] == ["frozenset", "['title']"]
        assert second.data["title"] == "B"
        assert first.data["idempotency_key"] != second.data["idempotency_key"]

    def test_row_deleted_before_the_worker_runs_is_skipped(self) -> None:
        with self.settings():
            article = Article.objects.using("offload").create(
                title="Short-lived", price=decimal.Decimal("3.10")
            )
            article.delete()
            run_worker(self.backend)
        assert effects("record_save") == []
        (deleted,) = effects("record_delete")
        assert deleted.data["title"] == "Short-lived"
        assert deleted.data["price"] == ["Decimal", "Decimal('3.10')"]

    def test_row_deleted_before_the_worker_runs_passes_none(self) -> None:
        with self.settings():
            Article.objects.using("offload").create(title="Gone").delete()
            run_worker(self.backend, missing="none")
        (effect,) = effects("record_save")
        assert effect.object_pk == ""
        assert effect.data["title"] is None


class DatabaseWorkerTests(WorkerTestsMixin, TransactionTestCase):
    backend = "database"

    def test_outbox_commits_and_rolls_back_with_the_data(self) -> None:
        with self.settings(DELIVERY="outbox"):
            with transaction.atomic(using="offload"):
                Article.objects.using("offload").create(title="Rolled back")
                transaction.set_rollback(True, using="offload")
            with transaction.atomic(using="offload"):
                Article.objects.using("offload").create(title="Outbox")
            run_worker(self.backend)
        assert [effect.data["title"] for effect in effects("record_save")] == ["Outbox"]

    def test_floats_reach_the_worker_as_the_same_floats(self) -> None:
        # The backend keeps payloads in jsonb, which rewrites 1e+16 as an
        # integer and -0.0 as 0.0.
        values = {"big": 1e16, "neg": -0.0, "tiny": 1e-07, "small": 2.5}
        with self.settings():
            article = Article.objects.using("offload").create(title="Floats")
            article_event.send(sender=None, article=article, values=values, using="offload")
            run_worker(self.backend)
        (effect,) = effects("record_event")
        assert effect.data["values"] == [
            "dict",
            {key: ["float", repr(value)] for key, value in values.items()},
        ]

    def test_strings_jsonb_refuses_reach_the_worker_unchanged(self) -> None:
        # jsonb rejects \u0000 and lone surrogates: the enqueue after the commit
        # failed, and the call was lost.
        values = ["a\x00b", "\udcff", {"key\x00": "v"}]
        with self.settings():
            article = Article.objects.using("offload").create(title="Texts")
            article_event.send(sender=None, article=article, values=values, using="offload")
            run_worker(self.backend)
        (effect,) = effects("record_event")
        assert effect.data["values"] == ["list", repr(values)]

    def test_a_failed_task_is_logged_once_naming_its_receiver(self) -> None:
        from django_tasks_db.models import DBTaskResult

        with self.settings():
            article = Article.objects.using("offload").create(title="Gone")
            article.delete()
            output = run_worker(self.backend, missing="fail")
        (failed,) = DBTaskResult.objects.using("offload").filter(status="FAILED")
        note = "Offloaded receiver tests.offloadapp.signals.record_save failed (idempotency_key "
        assert note in failed.traceback
        # By the Tasks API (with the task's id), not by signalkit as well.
        errors = [line for line in output.splitlines() if " ERROR] " in line]
        assert errors == [
            f"[{TASKS_MODULE} ERROR] Task id={failed.id} "
            "path=signalkit.offload.tasks.run_receiver state=FAILED"
        ]
        assert output.count(note) == 1


class RQWorkerTests(WorkerTestsMixin, TransactionTestCase):
    backend = "rq"

    def test_a_failed_task_is_logged_by_the_tasks_api_and_by_rq(self) -> None:
        # Two records, neither of them signalkit's (as the docs say): RQ's
        # worker logs every job that raises, on its own logger.
        with self.settings():
            Article.objects.using("offload").create(title="Gone").delete()
            output = run_worker(self.backend, missing="fail")
        errors = [line for line in output.splitlines() if " ERROR] " in line]
        assert len(errors) == 2, output
        task = re.escape("signalkit.offload.tasks.run_receiver")
        tasks_api = rf"\[{TASKS_MODULE} ERROR\] Task id=(\w+) path={task} state=FAILED"
        found = re.fullmatch(tasks_api, errors[0])
        assert found is not None, errors
        # (RQ's job id is the task's id.)
        rq = rf"\[rq\.worker ERROR\] Worker \w+: job {found[1]}: exception raised while "
        assert re.fullmatch(rf"{rq}executing \({task}\)", errors[1]), errors
        note = "Offloaded receiver tests.offloadapp.signals.record_save failed (idempotency_key "
        assert output.count(note) == 2

    def test_a_broker_down_at_commit_is_logged_and_later_callbacks_still_run(self) -> None:
        queue = f"{QUEUE}-down"
        down = {
            "TASKS": {"default": {"BACKEND": BACKENDS["rq"], "QUEUES": [queue]}},
            "RQ_QUEUES": {queue: {**REDIS, "PORT": 1, "SOCKET_CONNECT_TIMEOUT": 2}},
            "SIGNALKIT": {"OFFLOAD": {"QUEUE_NAME": queue}},
        }
        later: list[str] = []
        with (
            override_settings(**down),
            self.assertLogs("signalkit.offload", "ERROR") as logs,
            transaction.atomic(),
        ):
            article = Article.objects.create(title="Committed")
            transaction.on_commit(lambda: later.append("ran"))
        assert Article.objects.filter(pk=article.pk).exists()
        assert later == ["ran"]
        assert "tests.offloadapp.signals.record_save" in logs.output[0]
        assert "this call is lost" in logs.output[0]


class RunReceiverTests(TestCase):
    def arguments(self, article: Article) -> dict[str, Any]:
        return {
            "receiver": "tests.offloadapp.signals.record_save",
            "signal": 0,
            "sender": encode(Article),
            "kwargs": {
                "instance": encode(article),
                "created": True,
                "update_fields": None,
                "raw": False,
                "using": "default",
            },
            "idempotency_key": "k",
        }

    def test_missing_fail_raises_so_the_backend_marks_the_task_failed(self) -> None:
        article = Article.objects.create(title="Gone")
        arguments = self.arguments(article)
        Article.objects.filter(pk=article.pk).delete()
        Effect.objects.all().delete()
        with (
            override_settings(SIGNALKIT={"OFFLOAD": {"MISSING": "fail"}}),
            pytest.raises(Missing, match="no longer exists"),
        ):
            run_receiver.call(**arguments)
        assert not Effect.objects.exists()

    def test_missing_none_passes_none_for_a_deleted_sender(self) -> None:
        sender = Article.objects.create(title="Sender")
        article = Article.objects.create(title="Kept")
        arguments = {
            "receiver": "tests.offloadapp.signals.record_event",
            "signal": 0,
            "sender": encode(sender),
            "kwargs": {"article": encode(article), "values": 1, "using": "default"},
            "idempotency_key": "k",
        }
        Article.objects.filter(pk=sender.pk).delete()
        with override_settings(SIGNALKIT={"OFFLOAD": {"MISSING": "none"}}):
            run_receiver.call(**arguments)
        effect = Effect.objects.get(receiver="record_event")
        assert (effect.object_pk, effect.data["sender"]) == (str(article.pk), ["NoneType", "None"])

    def test_worker_without_the_receiver_names_its_key(self) -> None:
        arguments = {**self.arguments(Article.objects.create(title="A")), "receiver": "gone.key"}
        with pytest.raises(LookupError, match=r"No offloaded receiver 'gone\.key'"):
            run_receiver.call(**arguments)

    def test_an_argument_the_worker_cannot_decode_is_named(self) -> None:
        # (The error named a class alone, not the argument that held it.)
        article = Article.objects.create(title="A")
        arguments = {
            "receiver": "tests.offloadapp.signals.record_event",
            "signal": 0,
            "sender": None,
            "kwargs": {
                "article": encode(article),
                "values": {"$class": ["tests.offloadapp.models", "Gone"]},
                "using": "default",
            },
            "idempotency_key": "k",
        }
        note = (
            "(decoding the argument 'values' of offloaded receiver "
            "tests.offloadapp.signals.record_event)"
        )
        with pytest.raises(AttributeError, match=r"'tests\.offloadapp\.models\.Gone'") as caught:
            run_receiver.call(**arguments)
        assert caught.value.__notes__ == [
            note,
            "Offloaded receiver tests.offloadapp.signals.record_event failed (idempotency_key k).",
        ]
        assert not Effect.objects.filter(receiver="record_event").exists()
