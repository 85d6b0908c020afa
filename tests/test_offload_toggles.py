"""Toggles on the worker: a receiver switched off in the worker's settings runs
for no task, also for those queued before it was switched off."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from django.test import TestCase, TransactionTestCase, override_settings

from signalkit.offload.compat import TASKS_MODULE
from signalkit.offload.tasks import run_receiver
from signalkit.testing import mute_signals
from tests.offloadapp.models import Article, Effect
from tests.offloadapp.signals import article_event
from tests.workers import require_services, run_worker, worker_settings

SAVE = "tests.offloadapp.signals.record_save"
IMMEDIATE = {"default": {"BACKEND": f"{TASKS_MODULE}.backends.immediate.ImmediateBackend"}}


@pytest.fixture(scope="session", autouse=True)
def _services() -> None:
    require_services()


def effects(receiver: str) -> list[Effect]:
    return list(Effect.objects.using("offload").filter(receiver=receiver).order_by("id"))


class WorkerToggleTestsMixin:
    backend: ClassVar[str]
    databases: ClassVar[Any] = {"default", "offload"}

    def test_a_receiver_switched_off_on_the_worker_skips_the_calls_queued_before(self) -> None:
        with override_settings(**worker_settings(self.backend)):
            article = Article.objects.using("offload").create(title="Queued while on")
            article_event.send(sender=None, article=article, values=1, using="offload")
            output = run_worker(self.backend, off=[SAVE])
            # Skipped, not failed: a later worker does not run it either.
            run_worker(self.backend)
        assert effects("record_save") == []
        assert f"Skipped offloaded receiver {SAVE}: it is switched off" in output
        # The receivers that are on run as always.
        (effect,) = effects("record_event")
        assert effect.object_pk == str(article.pk)


class DatabaseWorkerToggleTests(WorkerToggleTestsMixin, TransactionTestCase):
    backend = "database"


class RQWorkerToggleTests(WorkerToggleTestsMixin, TransactionTestCase):
    backend = "rq"


@override_settings(TASKS=IMMEDIATE)
class ImmediateToggleTests(TestCase):
    # The immediate backend runs the task in this process, at the commit.

    def test_a_receiver_switched_off_before_the_commit_is_skipped_with_a_warning(self) -> None:
        with self.captureOnCommitCallbacks() as callbacks:
            Article.objects.create(title="A")
        assert len(callbacks) == 1
        with (
            override_settings(SIGNALKIT={"RECEIVERS": {SAVE: False}}),
            self.assertLogs("signalkit.offload", "WARNING") as logs,
        ):
            callbacks[0]()
        assert not Effect.objects.exists()
        (record,) = logs.records
        assert record.levelname == "WARNING"
        assert re.fullmatch(
            re.escape(
                f"Skipped offloaded receiver {SAVE}: it is switched off "
                f"(SIGNALKIT['RECEIVERS']), so this call is dropped (idempotency_key "
            )
            + r"[0-9a-f]{32}\)\.",
            record.getMessage(),
        )

    def test_a_receiver_switched_on_runs(self) -> None:
        toggles = {"RECEIVERS": {SAVE: True, "tests.offloadapp.signals.record_event": False}}
        with override_settings(SIGNALKIT=toggles), self.captureOnCommitCallbacks(execute=True):
            Article.objects.create(title="A")
        assert Effect.objects.filter(receiver="record_save").count() == 1

    def test_a_mute_around_the_commit_does_not_skip_it(self) -> None:
        # Mutes decide at send time, as for a receiver with on_commit=True.
        with self.captureOnCommitCallbacks() as callbacks:
            Article.objects.create(title="A")
        with mute_signals(receivers=SAVE), mute_signals():
            callbacks[0]()
        assert Effect.objects.filter(receiver="record_save").count() == 1

    def test_a_receiver_removed_and_switched_off_is_skipped(self) -> None:
        # (A deploy removed it: switching it off drains its queued tasks.)
        arguments = {
            "receiver": "gone.key",
            "signal": 0,
            "sender": None,
            "kwargs": {},
            "idempotency_key": "k",
        }
        with (
            override_settings(SIGNALKIT={"RECEIVERS": {"gone.key": False}}),
            self.assertLogs("signalkit.offload", "WARNING") as logs,
        ):
            run_receiver.call(**arguments)
        assert "Skipped offloaded receiver gone.key: it is switched off" in logs.output[0]
        with pytest.raises(LookupError, match=r"No offloaded receiver 'gone\.key'"):
            run_receiver.call(**arguments)
