from __future__ import annotations

import datetime
import decimal
import sys
import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.dispatch import Signal
from django.test import TestCase, TransactionTestCase, override_settings

import signalkit
from signalkit.gate import Mute, muting
from signalkit.offload import nesting
from signalkit.offload.compat import TASKS_MODULE, get_backend
from signalkit.offload.enqueue import OffloadError
from tests.offloadapp.models import Article, Effect
from tests.offloadapp.signals import article_event

# The backends shipped with the Tasks API (built-in on Django 6, the backport on 5.2).
IMMEDIATE = {"default": {"BACKEND": f"{TASKS_MODULE}.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": f"{TASKS_MODULE}.backends.dummy.DummyBackend"}}


def enqueued() -> list[Any]:
    return list(get_backend("default").results)


@override_settings(TASKS=IMMEDIATE)
class ImmediateDeliveryTests(TransactionTestCase):
    def test_post_save_runs_after_commit_with_exact_arguments(self) -> None:
        with transaction.atomic():
            article = Article.objects.create(title="First")
            assert not Effect.objects.exists()
        effect = Effect.objects.get()
        assert effect.receiver == "record_save"
        assert effect.object_pk == str(article.pk)
        assert effect.data["sender"] == "offloadapp.Article"
        assert effect.data["created"] is True
        assert effect.data["update_fields"] == ["NoneType", "None"]
        assert len(effect.data["idempotency_key"]) == 32

    def test_update_fields_arrive_as_frozenset(self) -> None:
        article = Article.objects.create(title="First")
        Effect.objects.all().delete()
        article.title = "Second"
        article.save(update_fields=["title", "price"])
        effect = Effect.objects.get()
        assert effect.data["title"] == "Second"
        assert effect.data["update_fields"] == ["frozenset", "['price', 'title']"]

    def test_rollback_enqueues_nothing(self) -> None:
        with transaction.atomic():
            Article.objects.create(title="Gone")
            transaction.set_rollback(True)
        assert not Effect.objects.exists()

    def test_post_delete_gets_the_rebuilt_instance(self) -> None:
        when = datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
        article = Article.objects.create(
            title="Doomed", price=decimal.Decimal("9.90"), published_at=when
        )
        pk = article.pk
        article.delete()
        effect = Effect.objects.get(receiver="record_delete")
        assert effect.object_pk == str(pk)
        assert effect.data["title"] == "Doomed"
        assert effect.data["price"] == ["Decimal", "Decimal('9.90')"]
        assert effect.data["published_at"] == ["datetime", repr(when)]
        assert effect.data["adding"] is False

    def test_custom_signal_values_round_trip(self) -> None:
        article = Article.objects.create(title="Typed")
        values = {
            "token": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "amount": decimal.Decimal("1.10"),
            "day": datetime.date(2026, 2, 3),
            "at": datetime.time(4, 5, 6),
            "pair": (1, "a"),
            "tags": {"b", "a"},
        }
        article_event.send(sender=Article, article=article, values=values, using="default")
        effect = Effect.objects.get(receiver="record_event")
        assert effect.data["values"] == [
            "dict",
            {
                "token": ["UUID", "UUID('12345678-1234-5678-1234-567812345678')"],
                "amount": ["Decimal", "Decimal('1.10')"],
                "day": ["date", "datetime.date(2026, 2, 3)"],
                "at": ["time", "datetime.time(4, 5, 6)"],
                "pair": ["tuple", "(1, 'a')"],
                "tags": ["set", "['a', 'b']"],
            },
        ]
        assert effect.data["sender"] == ["ModelBase", repr(Article)]

    def test_an_argument_nested_to_the_limit_travels_one_level_more_fails(self) -> None:
        article = Article.objects.create(title="Deep")
        nested: Any = 1
        for _ in range(nesting.limit()):
            nested = [nested]
        article_event.send(sender=None, article=article, values=nested, using="default")
        assert Effect.objects.get(receiver="record_event").data["values"] == ["list", repr(nested)]
        with pytest.raises(OffloadError, match="'values' is nested too deeply to travel"):
            article_event.send(sender=None, article=article, values=[nested], using="default")

    def test_a_failing_receiver_is_logged_once_by_the_backend_naming_its_key(self) -> None:
        # The backend logs the task by its function, signalkit.offload.tasks.run_receiver
        # for every offloaded receiver: the exception's note names the receiver.
        signal = Signal()
        signalkit.receiver(signal, offload=True, name="tests.charge_card")(fail_to_charge)
        try:
            with self.assertLogs(level="ERROR") as logs:
                signal.send(sender=None)
        finally:
            signal.disconnect(fail_to_charge)
        (failure,) = logs.records
        assert failure.name == TASKS_MODULE  # (the Tasks API's logger, not signalkit's)
        assert failure.exc_info is not None
        error = failure.exc_info[1]
        assert str(error) == "card declined"
        (note,) = error.__notes__  # type: ignore[union-attr]
        assert note.startswith("Offloaded receiver tests.charge_card failed (idempotency_key ")
        assert note in logs.output[0]  # (in the traceback the backend logs)


class Amount(int):
    """An int subclass: it travels as the plain int."""


def fail_to_charge(sender: Any, **kwargs: Any) -> None:
    raise RuntimeError("card declined")


@override_settings(TASKS=DUMMY)
class EnqueueTests(TestCase):
    def test_one_task_per_send_with_distinct_idempotency_keys(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            article = Article.objects.create(title="One")
            article.save()
        results = enqueued()
        assert len(results) == 2
        first, second = (result.kwargs for result in results)
        assert first["receiver"] == "tests.offloadapp.signals.record_save"
        assert (first["signal"], first["signal_path"]) == (0, "django.db.models.signals.post_save")
        assert first["kwargs"]["instance"] == {
            "$model": ["offloadapp.Article", {"$uuid": str(article.pk)}, "default"]
        }
        assert first["sender"] == {"$modelclass": "offloadapp.Article"}
        assert first["idempotency_key"] != second["idempotency_key"]
        assert results[0].task.queue_name == "default"

    def test_toggle_off_enqueues_nothing(self) -> None:
        with (
            override_settings(
                SIGNALKIT={"RECEIVERS": {"tests.offloadapp.signals.record_save": False}}
            ),
            self.captureOnCommitCallbacks(execute=True),
        ):
            Article.objects.create(title="Off")
        assert enqueued() == []

    def test_mute_enqueues_nothing(self) -> None:
        with muting(Mute()), self.captureOnCommitCallbacks(execute=True):
            Article.objects.create(title="Muted")
        assert enqueued() == []

    def test_queue_name_comes_from_settings(self) -> None:
        tasks = {"default": {**DUMMY["default"], "QUEUES": ["default", "slow"]}}
        with override_settings(TASKS=tasks, SIGNALKIT={"OFFLOAD": {"QUEUE_NAME": "slow"}}):
            with self.captureOnCommitCallbacks(execute=True):
                Article.objects.create(title="Slow")
            assert [result.task.queue_name for result in enqueued()] == ["slow"]

    def test_argument_that_cannot_be_encoded_fails_at_send_time(self) -> None:
        article = Article.objects.create(title="Bad")
        with pytest.raises(OffloadError) as caught:
            article_event.send(sender=None, article=article, values=object(), using="default")
        message = str(caught.value)
        assert "'tests.offloadapp.signals.record_event'" in message
        assert "argument 'values'" in message

    def test_a_too_deeply_nested_argument_fails_at_send_time(self) -> None:
        nested: list[Any] = []
        for _ in range(sys.getrecursionlimit() + 10):
            nested = [nested]
        article = Article.objects.create(title="Deep")
        with pytest.raises(OffloadError) as caught:
            article_event.send(sender=None, article=article, values=nested, using="default")
        assert str(caught.value).startswith(
            "Cannot offload receiver 'tests.offloadapp.signals.record_event': its argument "
            "'values' is nested too deeply to travel."
        )

    def test_an_argument_too_deep_for_the_task_backend_fails_at_send_time(self) -> None:
        # Within the recursion limit, but its JSON (three levels per dict whose
        # keys need escaping) is deeper than the Tasks API walks when it queues
        # the task, after the commit: the call would be lost.
        nested: Any = 1
        for _ in range(sys.getrecursionlimit() * 3 // 10):
            nested = {"\x00": nested}
        article = Article.objects.create(title="Deep")
        with (
            pytest.raises(OffloadError, match="'values' is nested too deeply to travel"),
            self.assertNoLogs("signalkit.offload"),
            self.captureOnCommitCallbacks(execute=True),
        ):
            article_event.send(sender=None, article=article, values=nested, using="default")
        assert enqueued() == []

    def test_an_integer_json_cannot_carry_fails_at_send_time(self) -> None:
        # (Python refuses to write it as text: the task would fail only when it
        # is queued, after the commit, and the call would be lost.)
        article = Article.objects.create(title="Big")
        huge = 10 ** (sys.get_int_max_str_digits() + 1)
        for value in (huge, {"total": -huge}, Amount(huge)):
            with pytest.raises(OffloadError) as caught:
                article_event.send(sender=None, article=article, values=value, using="default")
            assert "digits, which JSON cannot carry: send it as a string" in str(caught.value)
        with self.captureOnCommitCallbacks(execute=True):
            fits = 10 ** (sys.get_int_max_str_digits() - 1)
            article_event.send(sender=None, article=article, values=[fits], using="default")
        try:
            (result,) = enqueued()
            assert result.kwargs["kwargs"]["values"] == [fits]
        finally:
            get_backend("default").clear()  # (the other tests expect none queued)

    def test_an_argument_named_idempotency_key_fails_at_send_time(self) -> None:
        # (The receiver gets the task's key under that name.)
        signal = Signal()
        signalkit.receiver(signal, offload=True, name="tests.payment")(remember_payment)
        try:
            with pytest.raises(OffloadError, match="argument 'idempotency_key'"):
                signal.send(sender=None, idempotency_key="pay-1")
        finally:
            signal.disconnect(remember_payment)
        assert enqueued() == []

    def test_outbox_refuses_a_backend_outside_the_senders_database(self) -> None:
        with (
            override_settings(SIGNALKIT={"OFFLOAD": {"DELIVERY": "outbox"}}),
            pytest.raises(ImproperlyConfigured) as caught,
        ):
            Article.objects.create(title="Outbox")
        assert "stores its tasks in no Django database" in str(caught.value)
        assert "'tests.offloadapp.signals.record_save'" in str(caught.value)

    def test_an_unusable_backend_or_queue_fails_naming_the_setting(self) -> None:
        for offload, named in (
            ({"BACKEND": "nope"}, "SIGNALKIT['OFFLOAD']['BACKEND'] is 'nope'"),
            ({"QUEUE_NAME": "slow"}, "SIGNALKIT['OFFLOAD']['QUEUE_NAME'] is 'slow'"),
        ):
            with (
                override_settings(SIGNALKIT={"OFFLOAD": offload}),
                pytest.raises(ImproperlyConfigured, match=named.replace("[", r"\[")),
            ):
                Article.objects.create(title="Misconfigured")


def remember_payment(sender: Any, **kwargs: Any) -> None:
    pass


async_calls: list[Any] = []


@override_settings(TASKS=IMMEDIATE)
class AsyncReceiverTests(TransactionTestCase):
    def test_async_receiver_is_offloaded_and_awaited_on_the_worker(self) -> None:
        signal = Signal()

        async def remember(sender: Any, *, value: Any, **kwargs: Any) -> None:
            async_calls.append((sender, value, sorted(kwargs)))

        remember.__qualname__ = "async_remember"
        signalkit.receiver(signal, offload=True)(remember)
        try:
            async_to_sync(signal.asend)("s", value=decimal.Decimal("1.5"))
        finally:
            signal.disconnect(remember)
        assert async_calls == [("s", decimal.Decimal("1.5"), ["idempotency_key", "signal"])]
