from __future__ import annotations

import contextvars
import threading
import unittest
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db import connection, connections, transaction
from django.db.models.signals import pre_delete
from django.test import TransactionTestCase

import signalkit.audit as audit
from tests.audit_utils import audited, events
from tests.auditapp.models import Account

if TYPE_CHECKING:
    from collections.abc import Callable

THREADS = 8
ROUNDS = 12


class RolledBack(Exception):
    pass


def in_a_thread_during_a_batch(work: Callable[[], None]) -> None:
    """Run ``work`` in a thread started with a copy of the context of a
    ``batch()`` that has created an account ("main")."""
    with audit.batch():
        Account.objects.create(name="main")
        thread = threading.Thread(target=contextvars.copy_context().run, args=(work,))
        thread.start()
        thread.join()


@audited()
class ConcurrencyTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor not in ("postgresql", "mysql"):
            raise unittest.SkipTest("needs a database with concurrent writers")

    def test_every_committed_change_has_one_event_with_its_actor(self) -> None:
        users = [User.objects.create_user(f"user{n}") for n in range(THREADS)]
        rows = [Account.objects.create(name=f"row{n}").pk for n in range(3)]
        committed: list[tuple[str, str]] = []
        lock = threading.Lock()
        errors: list[BaseException] = []
        barrier = threading.Barrier(THREADS)

        def work(user: User) -> None:
            try:
                barrier.wait()
                with audit.context(actor=user):
                    for round_ in range(ROUNDS):
                        name = f"{user.username}-{round_}"
                        try:
                            with transaction.atomic():
                                account = Account.objects.select_for_update().get(
                                    pk=rows[round_ % len(rows)]
                                )
                                account.name = name
                                account.save()
                                if round_ % 4 == 3:
                                    raise RolledBack
                        except RolledBack:
                            continue
                        with lock:
                            committed.append((name, user.username))
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work, args=(user,)) for user in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        recorded = [
            (event.changes["name"][1], event.actor_repr)
            for event in events(action="update", model_label="auditapp.Account")
        ]
        assert sorted(recorded) == sorted(committed)
        assert len(committed) == THREADS * ROUNDS * 3 // 4

    def test_a_batch_context_copied_to_another_thread_keeps_that_threads_events(self) -> None:
        # The worker's connection is its own: its change commits on its own, and
        # its event with it (not in the batch's buffer, flushed on another one).
        def work() -> None:
            try:
                Account.objects.create(name="in thread")
                audit.record("noted")
            finally:
                connections.close_all()

        in_a_thread_during_a_batch(work)
        assert sorted(e.object_repr for e in events(action="create")) == ["in thread", "main"]
        assert len(events(action="noted")) == 1

    def test_a_batch_in_a_thread_with_a_copied_batch_context_buffers_its_own_events(self) -> None:
        def work() -> None:
            try:
                with audit.batch():
                    account = Account.objects.create(name="in thread")
                    account.name = "renamed in thread"
                    account.save()
            finally:
                connections.close_all()

        in_a_thread_during_a_batch(work)
        assert sorted((e.action, e.object_repr) for e in events()) == [
            ("create", "main"),
            ("create", "renamed in thread"),
        ]

    def test_a_delete_that_reads_its_row_records_what_it_deletes(self) -> None:
        # Deleting through an instance without a snapshot reads the row first.
        # An update committed between that read and the DELETE would be deleted
        # but missing from the event: the read locks the row, so it waits.
        account = Account.objects.create(name="before")
        read = threading.Event()
        updated: list[int] = []

        def update() -> None:
            try:
                read.wait(10)
                updated.append(Account.objects.filter(pk=account.pk).update(name="after"))
            finally:
                connections.close_all()

        def after_the_audits_read(**kwargs: Any) -> None:
            read.set()
            other.join(timeout=1)  # the update commits now, unless the row is locked

        other = threading.Thread(target=update)
        other.start()
        pre_delete.connect(after_the_audits_read, sender=Account, weak=False)
        try:
            Account(pk=account.pk, name="in memory").delete()
        finally:
            pre_delete.disconnect(after_the_audits_read, sender=Account)
            other.join()
        assert updated == [0]  # it waited, and found the row deleted
        assert events(action="delete")[0].changes["name"] == ["before", None]
