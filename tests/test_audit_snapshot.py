from __future__ import annotations

from django.db import transaction
from django.test import TestCase, TransactionTestCase

from tests.audit_utils import audited, events
from tests.auditapp.models import Account


class RolledBack(Exception):
    pass


@audited()
class SnapshotRollbackTests(TransactionTestCase):
    def test_rolled_back_save_leaves_no_event_and_the_next_save_is_recorded(self) -> None:
        account = Account.objects.create(name="a")
        try:
            with transaction.atomic():
                account.name = "b"
                account.save()
                raise RolledBack
        except RolledBack:
            pass
        assert events(action="update") == []
        account.save()
        [event] = events(action="update")
        assert event.changes == {"name": ["a", "b"]}

    def test_rolled_back_savepoint_restores_the_outer_snapshot(self) -> None:
        account = Account.objects.create(name="a")
        with transaction.atomic():
            account.name = "b"
            account.save()
            try:
                with transaction.atomic():
                    account.name = "c"
                    account.save()
                    raise RolledBack
            except RolledBack:
                pass
            account.name = "d"
            account.save()
        assert [event.changes for event in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "d"]},
        ]

    def test_unrelated_savepoint_rollback_keeps_the_pending_snapshot(self) -> None:
        account = Account.objects.create(name="a")
        with transaction.atomic():
            account.name = "b"
            account.save()
            try:
                with transaction.atomic():
                    Account.objects.create(name="other")
                    raise RolledBack
            except RolledBack:
                pass
            account.save()
        assert [event.changes for event in events(action="update")] == [{"name": ["a", "b"]}]

    def test_latest_save_wins_across_released_savepoints(self) -> None:
        account = Account.objects.create(name="a")
        with transaction.atomic():
            account.name = "b"
            account.save()
            with transaction.atomic():
                account.name = "c"
                account.save()
            account.name = "d"
            account.save()
        account.name = "e"
        account.save()
        assert [event.changes for event in events(action="update")][-1] == {"name": ["d", "e"]}

    def test_committed_snapshot_advances_on_commit(self) -> None:
        account = Account.objects.create(name="a")
        with transaction.atomic():
            account.name = "b"
            account.save()
        account.name = "c"
        account.save()
        assert [event.changes for event in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "c"]},
        ]

    def test_events_share_the_transaction_id(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="a")
            Account.objects.create(name="b")
        Account.objects.create(name="c")
        first, second, third = events()
        assert first.txid == second.txid != third.txid

    def test_rolled_back_delete_and_m2m_leave_no_event(self) -> None:
        account = Account.objects.create(name="a")
        try:
            with transaction.atomic():
                account.labels.create(name="l")
                Account.objects.get(pk=account.pk).delete()
                raise RolledBack
        except RolledBack:
            pass
        assert [event.action for event in events()] == ["create"]


@audited()
class SnapshotInTestCaseTests(TestCase):
    def test_two_saves_in_one_transaction_diff_against_each_other(self) -> None:
        account = Account.objects.create(name="a")
        account.name = "b"
        account.save()
        account.name = "c"
        account.save()
        account.save()
        assert [event.changes for event in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "c"]},
        ]
