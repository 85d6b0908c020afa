"""A deadlock at the audit's write on MySQL/MariaDB, under ``ON_ERROR = "log"``.

InnoDB ends the whole transaction of a deadlock's victim, savepoints included:
the change being audited is gone too, and its caller must hear of it, as of any
error of its own queries. Logging it instead let the block "commit" an empty
transaction (or the retried events alone) without a word.
"""

from __future__ import annotations

import threading
import unittest

import pytest
from django.db import OperationalError, connection, transaction
from django.test import TransactionTestCase

from signalkit.models import AuditEvent
from tests.audit_utils import audited, close_thread_connections, events
from tests.auditapp.models import Ticket

# A key above every event's: "FOR UPDATE" on it locks the gap at the end of the
# table, which both transactions may hold, and which blocks each one's INSERT.
BEYOND = 10**15


def lock_the_end() -> None:
    # (Raw SQL: a query of the log through the ORM writes the transaction's
    # waiting events first.)
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(AuditEvent._meta.db_table)
        cursor.execute(f"SELECT id FROM {table} WHERE id > %s FOR UPDATE", [BEYOND])


def isolation(level: str) -> None:
    """This thread's connection's isolation level: REPEATABLE READ, the server's
    default, takes gap locks; Django's default, READ COMMITTED, does not."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET SESSION TRANSACTION ISOLATION LEVEL {level}")


@unittest.skipUnless(connection.vendor == "mysql", "InnoDB ends a deadlock victim's transaction")
@audited(ON_ERROR="log")
class DeadlockTests(TransactionTestCase):
    def test_a_deadlock_at_the_audit_write_reaches_the_caller(self) -> None:
        ticket = Ticket.objects.create(code="audited", title="before")
        locked, go = threading.Event(), threading.Event()
        failures: list[BaseException] = []

        def other_transaction() -> None:
            # The heavier transaction (20 rows written): InnoDB makes the
            # lighter one, the audited change, the victim.
            try:
                isolation("REPEATABLE READ")
                with transaction.atomic():
                    Ticket.objects.bulk_create(
                        Ticket(code=f"other {n}", title="other") for n in range(20)
                    )
                    lock_the_end()
                    locked.set()
                    go.wait(10)
                    AuditEvent.objects.create(action="other", model_label="x", object_pk="1")
            except BaseException as exc:  # reported by the test
                failures.append(exc)
            finally:
                close_thread_connections()

        thread = threading.Thread(target=other_transaction)
        thread.start()
        try:
            assert locked.wait(10)
            isolation("REPEATABLE READ")
            with pytest.raises(OperationalError) as caught, transaction.atomic():
                ticket.title = "after"
                ticket.save()  # its event waits for the commit
                lock_the_end()
                # Whichever INSERT comes first, the other transaction's or this
                # one's at the commit, waits for the other's lock: a deadlock.
                go.set()
        finally:
            go.set()
            thread.join(20)
            isolation("READ COMMITTED")
        assert caught.value.args[0] == 1213  # ER_LOCK_DEADLOCK
        assert failures == []
        assert Ticket.objects.get(pk=ticket.pk).title == "before"
        # No event for the change that was lost; the other transaction's stands.
        assert [(e.action, e.object_pk) for e in events(model_label="auditapp.Ticket")] == [
            ("create", "audited")
        ]
        assert [e.action for e in events(model_label="x")] == ["other"]
