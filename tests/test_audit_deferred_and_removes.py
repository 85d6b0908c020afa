"""A deferred field named in ``update_fields``, and removes of one instance by
several threads at once."""

from __future__ import annotations

import datetime
import decimal
import gc
import threading
import unittest
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models.signals import m2m_changed
from django.test import TestCase, TransactionTestCase

import signalkit.audit as audit
from signalkit.audit import m2m
from tests.audit_utils import audited, close_thread_connections, events, queries_with_log
from tests.auditapp.models import Account, Label


class Refused(Exception):
    pass


class DeferredInUpdateFieldsCases:
    """A field deferred at load time and never loaded, named in ``update_fields``:
    Django loads it inside the save (an ``auto_now`` one gets the time)."""

    def test_an_unchanged_field_records_nothing(self) -> None:
        Account.objects.create(name="a", balance=decimal.Decimal(5))
        account = Account.objects.only("name").get()
        account.save(update_fields=["balance"])
        assert events(action="update") == []

    def test_other_fields_record_their_changes_only(self) -> None:
        Account.objects.create(name="a", balance=decimal.Decimal(5))
        account = Account.objects.only("name").get()
        account.name = "b"
        account.save(update_fields=["name", "balance"])
        assert [event.changes for event in events(action="update")] == [{"name": ["a", "b"]}]

    def test_an_auto_now_field_records_its_old_value(self) -> None:
        Account.objects.create(name="a", born=datetime.date(2000, 1, 2))
        account = Account.objects.only("name").get()
        with mock.patch.object(Account._meta.get_field("born"), "auto_now", True):
            account.save(update_fields=["born"])
        today = datetime.date.today().isoformat()
        assert [event.changes for event in events(action="update")] == [
            {"born": ["2000-01-02", today]}
        ]

    def test_the_old_value_is_read_once_before_the_update(self) -> None:
        Account.objects.create(name="a", balance=decimal.Decimal(5))
        account = Account.objects.only("name").get()
        account.name = "b"
        with queries_with_log() as queries:
            account.save(update_fields=["name", "balance"])
        # The audit's read, Django's, the UPDATE and the event's INSERT.
        assert len(queries) == 4

    def test_a_loaded_instance_needs_no_read(self) -> None:
        Account.objects.create(name="a", balance=decimal.Decimal(5))
        account = Account.objects.get()
        account.balance = decimal.Decimal(6)
        with queries_with_log() as queries:
            account.save(update_fields=["balance"])
        assert len(queries) == 2
        assert events(action="update")[-1].changes == {"balance": ["5.00", "6.00"]}


@audited()
class DeferredInUpdateFieldsTests(DeferredInUpdateFieldsCases, TestCase):
    pass


@audited()
class DeferredInUpdateFieldsAutocommitTests(DeferredInUpdateFieldsCases, TransactionTestCase):
    pass


def key_of(instance: Account) -> tuple[int, int, type[Any]]:
    """The key of this thread's pending remove or clear of ``instance``'s labels."""
    return (threading.get_ident(), id(instance), Account.labels.through)


def refuse(sender: Any, action: str, **kwargs: Any) -> None:
    if action == "pre_remove":
        raise Refused


@audited()
class FailedRemoveTests(TestCase):
    def setUp(self) -> None:
        # Connected after the audit's receiver: the remove fails between its
        # pre_remove and its post_remove.
        m2m_changed.connect(refuse, sender=Account.labels.through, dispatch_uid="test-refuse")
        self.addCleanup(
            m2m_changed.disconnect, sender=Account.labels.through, dispatch_uid="test-refuse"
        )

    def test_what_it_read_goes_with_the_instance(self) -> None:
        account = Account.objects.create(name="a")
        label = Label.objects.create(name="1")
        account.labels.add(label)
        pending = len(m2m._before)
        with pytest.raises(Refused), transaction.atomic():
            account.labels.remove(label)
        assert len(m2m._before) == pending + 1  # left by the remove that failed
        del account
        gc.collect()
        assert len(m2m._before) == pending

    def test_a_later_remove_records_its_own_links(self) -> None:
        account = Account.objects.create(name="a")
        one, two = Label.objects.create(name="1"), Label.objects.create(name="2")
        account.labels.add(one, two)
        with pytest.raises(Refused), transaction.atomic():
            account.labels.remove(one)
        m2m_changed.disconnect(sender=Account.labels.through, dispatch_uid="test-refuse")
        account.labels.remove(two)
        assert [event.changes for event in events(action="m2m_remove")] == [
            {"labels": {"remove": [two.pk]}}
        ]
        assert key_of(account) not in m2m._before


@audited()
class SharedInstanceRemoveTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            raise unittest.SkipTest("needs concurrent writers (SIGNALKIT_TEST_DB=postgres)")

    def test_removes_by_two_threads_at_once_record_one_event_each(self) -> None:
        shared = Account.objects.create(name="shared")  # a cached instance, say
        labels = [Label.objects.create(name="1"), Label.objects.create(name="2")]
        shared.labels.add(*labels)
        barrier = threading.Barrier(2, timeout=10)

        def together(sender: Any, action: str, **kwargs: Any) -> None:
            if action == "pre_remove":
                barrier.wait()  # both threads past the audit's pre_remove

        # Connected after the audit's receiver: runs after it.
        through = Account.labels.through
        m2m_changed.connect(together, sender=through, dispatch_uid="test-together")
        self.addCleanup(m2m_changed.disconnect, sender=through, dispatch_uid="test-together")
        errors: list[BaseException] = []

        def work(label: Label) -> None:
            try:
                with audit.context(actor=f"thread-{label.name}"):
                    shared.labels.remove(label)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                close_thread_connections()

        threads = [threading.Thread(target=work, args=(label,)) for label in labels]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert not shared.labels.exists()
        assert sorted((e.actor_repr, e.changes) for e in events(action="m2m_remove")) == [
            ("thread-1", {"labels": {"remove": [labels[0].pk]}}),
            ("thread-2", {"labels": {"remove": [labels[1].pk]}}),
        ]
        assert not any(key[1] == id(shared) for key in m2m._before)
