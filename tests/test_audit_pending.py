"""Default mode in atomic blocks: events wait for the commit and are written inside it."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast
from django.test import TransactionTestCase
from django.test.utils import CaptureQueriesContext

import signalkit.audit as audit
from signalkit.audit import pending
from signalkit.models import AuditEvent
from tests.audit_utils import audit_inserts, audited, events, quoted
from tests.auditapp.models import Account


class RolledBack(Exception):
    pass


def names() -> list[str]:
    return [event.object_repr for event in events()]


@audited()
class CommitTests(TransactionTestCase):
    databases = {"default", "other"}

    def test_events_wait_for_the_commit_and_share_one_insert(self) -> None:
        with CaptureQueriesContext(connection) as queries:
            with transaction.atomic():
                for name in ("a", "b", "c"):
                    Account.objects.create(name=name)
                assert audit_inserts(queries) == 0
            assert audit_inserts(queries) == 1
        assert names() == ["a", "b", "c"]
        assert len({event.txid for event in events()}) == 1

    def test_every_update_costs_its_update_and_the_transaction_one_insert(self) -> None:
        accounts = [Account.objects.create(name=f"n{n}") for n in range(3)]
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            for account in accounts:
                account.name += "!"
                account.save()
        updates = [
            q for q in queries if q["sql"].startswith(f"UPDATE {quoted('auditapp_account')}")
        ]
        assert (len(updates), audit_inserts(queries)) == (3, 1)
        assert [e.changes for e in events(action="update")] == [
            {"name": [f"n{n}", f"n{n}!"]} for n in range(3)
        ]

    def test_autocommit_writes_at_once(self) -> None:
        account = Account.objects.create(name="a")
        account.name = "b"
        with CaptureQueriesContext(connection) as queries:
            account.save()
        assert len(queries) == 2
        assert audit_inserts(queries) == 1

    def test_delete_in_autocommit_is_written_in_djangos_own_transaction(self) -> None:
        account = Account.objects.create(name="a")
        account.delete()
        assert [e.action for e in events()] == ["create", "delete"]

    def test_rolled_back_transaction_leaves_nothing_behind(self) -> None:
        with pytest.raises(RolledBack), transaction.atomic():
            Account.objects.create(name="lost")
            raise RolledBack
        with transaction.atomic():
            Account.objects.create(name="kept")
        assert names() == ["kept"]

    def test_rolled_back_savepoint_drops_only_its_events(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="a")
            with pytest.raises(RolledBack), transaction.atomic():
                Account.objects.create(name="b")
                raise RolledBack
            Account.objects.create(name="c")
        assert names() == ["a", "c"]

    def test_the_transaction_reads_its_own_events_once(self) -> None:
        with transaction.atomic():
            account = Account.objects.create(name="a")
            assert [e.action for e in audit.history(account)] == ["create"]
            account.name = "b"
            account.save()
            assert AuditEvent.objects.count() == 2
        assert [e.action for e in audit.history(account)] == ["create", "update"]

    def test_a_subquery_on_the_log_sees_the_waiting_events(self) -> None:
        # Compiled with the outer query's connection, not with an alias.
        with transaction.atomic():
            account = Account.objects.create(name="a")
            logged = AuditEvent.objects.filter(
                model_label="auditapp.Account", object_pk=Cast(OuterRef("pk"), CharField())
            )
            assert Account.objects.filter(Exists(logged), pk=account.pk).exists()

    def test_event_written_in_a_savepoint_that_rolls_back_is_written_again(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="a")
            with pytest.raises(RolledBack), transaction.atomic():
                assert names() == ["a"]  # written now, inside the inner savepoint
                Account.objects.create(name="b")
                raise RolledBack
            assert names() == ["a"]
            Account.objects.create(name="c")
        assert names() == ["a", "c"]

    def test_a_long_transaction_writes_every_limit_events(self) -> None:
        with (
            mock.patch.object(pending, "LIMIT", 3),
            CaptureQueriesContext(connection) as queries,
            transaction.atomic(),
        ):
            for n in range(7):
                Account.objects.create(name=f"n{n}")
            assert audit_inserts(queries) == 2
        assert audit_inserts(queries) == 3
        assert names() == [f"n{n}" for n in range(7)]

    def test_manual_transaction_management(self) -> None:
        transaction.set_autocommit(False)
        try:
            with transaction.atomic():
                Account.objects.create(name="committed")
            transaction.commit()
            with transaction.atomic():
                Account.objects.create(name="rolled back")
            transaction.rollback()
        finally:
            transaction.set_autocommit(True)
        # Every row kept has its event: on SQLite the second block's release
        # committed its row before the rollback (a savepoint made outside a
        # transaction is one).
        rows = list(Account.objects.order_by("pk").values_list("name", flat=True))
        assert rows == (
            ["committed", "rolled back"] if connection.vendor == "sqlite" else ["committed"]
        )
        assert names() == rows

    def test_an_error_other_than_a_database_error_rolls_back(self) -> None:
        failure = RuntimeError("disk full")
        with (
            pytest.raises(RuntimeError),
            mock.patch("signalkit.audit.writer._insert", side_effect=failure),
            transaction.atomic(),
        ):
            Account.objects.create(name="a")
        assert not Account.objects.exists()
        assert connection.get_autocommit()
        with transaction.atomic():
            Account.objects.create(name="b")
        assert names() == ["b"]

    def test_each_database_commits_its_own_events(self) -> None:
        with transaction.atomic(using="other"), transaction.atomic():
            Account.objects.using("other").create(name="there")
            Account.objects.create(name="here")
        assert names() == ["here"]
        assert [e.object_repr for e in AuditEvent.objects.using("other")] == ["there"]

    def test_a_custom_event_is_written_after_the_waiting_ones(self) -> None:
        with transaction.atomic():
            account = Account.objects.create(name="a")
            audit.record("exported", account)
        assert [e.action for e in events()] == ["create", "exported"]  # by primary key
