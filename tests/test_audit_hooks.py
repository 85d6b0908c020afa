"""The audit's own commit hooks: invisible to Django's on_commit list, in step with it."""

from __future__ import annotations

import contextlib
import copy
import pickle
from functools import partial
from typing import Any
from unittest import mock

import pytest
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.db.backends.signals import connection_created
from django.db.transaction import TransactionManagementError
from django.test import TestCase, TransactionTestCase

import signalkit.audit as audit
from signalkit.audit import hooked, hooks, pending
from tests.audit_utils import audited, events
from tests.auditapp.models import Account, Label, Note

# Django 6.1 renamed transaction.savepoint() (deprecated) to savepoint_create().
savepoint = getattr(transaction, "savepoint_create", None) or transaction.savepoint


class Boom(Exception):
    pass


def boom() -> None:
    raise Boom


@audited()
class OnCommitListTests(TestCase):
    def test_capture_on_commit_callbacks_sees_only_the_users_callbacks(self) -> None:
        ran: list[str] = []
        label = Label.objects.create(name="l")
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            account = Account.objects.create(name="a")
            account.name = "b"
            account.save()
            account.labels.add(label)
            Note.objects.create(account=account, text="n").delete()
            with audit.batch():
                Account.objects.create(name="c")
            audit.record("exported", account)
            transaction.on_commit(lambda: ran.append("mine"))
        assert len(callbacks) == 1
        assert ran == ["mine"]
        assert [e.action for e in events()] == [
            "create",
            "update",
            "m2m_add",
            "create",
            "delete",
            "create",
            "exported",
        ]


@audited()
class HookTests(TransactionTestCase):
    def test_a_failing_on_commit_callback_does_not_leave_a_stale_snapshot(self) -> None:
        account = Account.objects.create(name="a")
        with pytest.raises(Boom), transaction.atomic():
            transaction.on_commit(boom)  # runs first, and raises after the commit
            account.name = "b"
            account.save()
        account.name = "c"
        account.save()
        assert [e.changes for e in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "c"]},
        ]

    def test_closing_the_connection_keeps_exactly_the_committed_changes(self) -> None:
        # A real close (PostgreSQL) loses the transaction, and its events with it;
        # SQLite ignores closing an in-memory database, and the block commits.
        with transaction.atomic():
            Account.objects.create(name="a")
            connection.close()
        with transaction.atomic():
            Account.objects.create(name="b")
        committed = list(Account.objects.order_by("pk").values_list("name", flat=True))
        assert committed[-1] == "b"
        assert [e.object_repr for e in events()] == committed

    def test_commit_inside_an_atomic_block_is_refused_and_writes_nothing(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="a")
            with pytest.raises(TransactionManagementError):
                connection.commit()
            with pytest.raises(RuntimeError), transaction.atomic():
                Account.objects.create(name="b")
                raise RuntimeError
        assert [e.object_repr for e in events()] == ["a"]

    def test_manual_savepoint_rollback_drops_the_events_of_its_changes(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="a")
            sid = savepoint()
            Account.objects.create(name="b")
            transaction.savepoint_rollback(sid)
            Account.objects.create(name="c")
        assert [e.object_repr for e in events()] == ["a", "c"]

    def test_manual_savepoint_rollback_drops_what_released_savepoints_inside_it_did(
        self,
    ) -> None:
        with transaction.atomic():
            sid = savepoint()
            Account.objects.create(name="a")
            with transaction.atomic():
                Account.objects.create(name="b")
            transaction.savepoint_rollback(sid)
            Account.objects.create(name="c")
            transaction.savepoint_commit(sid)
        assert [e.object_repr for e in events()] == ["c"]

    def test_released_manual_savepoint_keeps_its_events(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="a")
            sid = savepoint()
            Account.objects.create(name="b")
            transaction.savepoint_commit(sid)
        assert [e.object_repr for e in events()] == ["a", "b"]

    def test_event_read_inside_a_manual_savepoint_survives_its_rollback(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="a")
            sid = savepoint()
            assert [e.object_repr for e in events()] == ["a"]  # written now
            transaction.savepoint_rollback(sid)
        assert [e.object_repr for e in events()] == ["a"]


class SavepointBookkeepingTests(TransactionTestCase):
    def test_open_savepoints_follow_the_database(self) -> None:
        real = connections["default"]
        state = hooks.of(real)
        with transaction.atomic():
            hooks.marker(real)
            first = savepoint()
            hooks.marker(real)
            second = savepoint()
            assert list(state.savepoints) == [first, second]
            assert hooks.newest_savepoint(real) == 2
            # Rolling back to a savepoint destroys the ones opened after it.
            entries = state.entries
            transaction.savepoint_rollback(first)
            assert list(state.savepoints) == [first]
            assert len(state.entries) == 1
            assert state.entries is entries  # trimmed in place, never copied
            second = savepoint()
            # Releasing one releases those opened after it.
            transaction.savepoint_commit(first)
            assert state.savepoints == {}
            assert hooks.newest_savepoint(real) == -1
            with transaction.atomic():
                # Two registrations so far (the dropped one still counts).
                assert hooks.newest_savepoint(real) == 2
            assert hooks.newest_savepoint(real) == -1
        assert (state.entries, state.savepoints, state.count) == ([], {}, 0)


@audited()
class PatchedConnectionTests(TransactionTestCase):
    """Tests patch transaction methods; the audit's bookkeeping must survive that."""

    def test_patching_a_transaction_method_on_the_connection_keeps_the_hooks(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="first")
        real = connections["default"]
        for name in ("savepoint", "savepoint_rollback", "rollback", "commit"):
            with mock.patch.object(connection, name, wraps=getattr(real, name)):
                pass
        with transaction.atomic():
            Account.objects.create(name="a")
            with pytest.raises(Boom), transaction.atomic():
                Account.objects.create(name="b")
                raise Boom
        with pytest.raises(Boom), transaction.atomic():
            Account.objects.create(name="lost")
            raise Boom
        assert [e.object_repr for e in events()] == ["first", "a"]

    def test_a_patch_of_the_backend_class_is_called(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="first")
        real = connections["default"]
        backend: Any = type(real).__mro__[2]  # the backend's own class, below signalkit's
        assert backend.__name__ == "DatabaseWrapper"
        spy = mock.patch.object(backend, "rollback", autospec=True, side_effect=backend.rollback)
        with spy as rollback, pytest.raises(Boom), transaction.atomic():
            Account.objects.create(name="lost")
            raise Boom
        assert rollback.call_count == 1
        assert [e.object_repr for e in events()] == ["first"]

    def test_the_connection_keeps_its_class_name(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="a")
        real = connections["default"]
        assert type(real).__qualname__ == "DatabaseWrapper"
        assert repr(real).startswith("<DatabaseWrapper vendor=")


@audited()
class OrderAndMergeTests(TransactionTestCase):
    def test_events_written_again_keep_their_place(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="a")
            with pytest.raises(Boom), transaction.atomic():
                with audit.batch():
                    Account.objects.create(name="b")
                raise Boom
            Account.objects.create(name="c")
        assert [e.object_repr for e in events()] == ["a", "c"]

    def test_batch_merges_saves_across_a_savepoint_that_ended(self) -> None:
        account = Account.objects.create(name="a")
        with audit.batch():
            account.name = "b"
            account.save()
            Label.objects.get_or_create(name="l")  # opens and releases a savepoint
            account.name = "c"
            account.save()
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "c"]}]

    def test_batch_does_not_merge_across_a_savepoint_still_open(self) -> None:
        account = Account.objects.create(name="a")
        with audit.batch():
            account.name = "b"
            account.save()
            with pytest.raises(Boom), transaction.atomic():
                account.name = "c"
                account.save()
                raise Boom
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]


@audited()
class CopiedInstanceTests(TestCase):
    account: Account

    @classmethod
    def setUpTestData(cls) -> None:
        cls.account = Account.objects.create(name="a")

    def test_an_instance_from_set_up_test_data_is_diffed_against_its_values(self) -> None:
        self.account.name = "b"
        self.account.save()
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]

    def test_a_pickled_instance_is_diffed_against_its_values(self) -> None:
        account = pickle.loads(pickle.dumps(Account.objects.get(pk=self.account.pk)))
        account.name = "c"
        account.save()
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "c"]}]


@audited()
class CopiedInTransactionTests(TransactionTestCase):
    def test_a_shallow_copy_has_its_own_snapshot(self) -> None:
        # copy.copy() shares the original's __dict__ values: saving the copy as a
        # new row must not move the original's old values.
        original = Account.objects.create(name="orig")
        clone = copy.copy(original)
        clone.pk = None
        clone.name = "clone"
        clone.save()
        original.name = "clone"
        original.save()
        [update] = events(action="update")
        assert (update.object_pk, update.changes) == (str(original.pk), {"name": ["orig", "clone"]})

    def test_a_copy_made_in_a_transaction_that_rolls_back_shares_its_fate(self) -> None:
        account = Account.objects.create(name="a")
        with pytest.raises(Boom), transaction.atomic():
            account.name = "b"
            account.save()
            copied = copy.deepcopy(account)
            raise Boom
        copied.save()  # the database still holds "a"
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]

    def test_a_pickled_copy_keeps_only_what_was_committed(self) -> None:
        account = Account.objects.create(name="a")
        with pytest.raises(Boom), transaction.atomic():
            account.name = "b"
            account.save()
            pickled = pickle.loads(pickle.dumps(account))
            raise Boom
        pickled.save()
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]

    def test_a_copy_keeps_the_snapshot_of_every_savepoint_still_open(self) -> None:
        account = Account.objects.create(name="a")
        with transaction.atomic():
            account.name = "b"
            account.save()
            with pytest.raises(Boom), transaction.atomic():
                account.name = "c"
                account.save()
                account = copy.deepcopy(account)
                raise Boom
            account.name = "d"
            account.save()
        assert [e.changes for e in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "d"]},
        ]

    def test_a_copy_pickled_before_a_commit_reads_what_it_cannot_know(self) -> None:
        account = Account.objects.create(name="a", api_key="k")
        with transaction.atomic():
            account.name = "b"
            account.save()
            blob = pickle.dumps(account)
        copied = pickle.loads(blob)
        copied.name = "c"
        copied.save()
        assert [e.changes for e in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "c"]},
        ]

    def test_a_copy_made_in_a_transaction_that_commits_shares_its_fate(self) -> None:
        account = Account.objects.create(name="a")
        with transaction.atomic():
            account.name = "b"
            account.save()
            copied = copy.deepcopy(account)
        copied.name = "c"
        copied.save()
        assert [e.changes for e in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "c"]},
        ]


@audited()
class BackendClassTests(TransactionTestCase):
    def test_the_connection_still_reports_its_backend_class(self) -> None:
        with transaction.atomic():
            Account.objects.create(name="a")
        real = connections["default"]
        backend = type(real).__mro__[2]
        # Django sends connection_created with sender=connection.__class__.
        assert real.__class__ is backend
        assert isinstance(real, backend)

    @pytest.mark.skipif(
        connections["default"].vendor != "postgresql", reason="SQLite keeps :memory: open"
    )
    def test_connection_created_receivers_of_the_backend_see_a_reconnect(self) -> None:
        real = connections["default"]
        seen: list[object] = []

        def created(sender: object, **kwargs: object) -> None:
            seen.append(sender)

        backend = type(real) if not isinstance(real, hooked.Hooked) else type(real).__mro__[2]
        with transaction.atomic():
            Account.objects.create(name="a")
        connection_created.connect(created, sender=backend)
        try:
            real.close()
            real.ensure_connection()
        finally:
            connection_created.disconnect(created, sender=backend)
        assert seen == [backend]


@audited()
class ExposureTests(TransactionTestCase):
    def test_rows_written_inside_a_savepoint_stop_being_tracked_once_it_ends(self) -> None:
        real = connections["default"]
        with mock.patch.object(pending, "LIMIT", 3), transaction.atomic():
            for n in range(30):
                with transaction.atomic():  # one savepoint per row, as in a loop
                    Account.objects.create(name=f"n{n}")
            # Every third create wrote the waiting events inside its savepoint.
            assert len(real.__dict__[pending.ATTRIBUTE].exposed) <= 3
            with pytest.raises(Boom), transaction.atomic():
                Account.objects.create(name="lost")
                raise Boom
        assert [e.object_repr for e in events()] == [f"n{n}" for n in range(30)]


@audited()
class ManualTransactionTests(TransactionTestCase):
    def tearDown(self) -> None:
        if not transaction.get_autocommit():
            transaction.rollback()
            transaction.set_autocommit(True)

    def test_events_keep_the_order_of_the_changes(self) -> None:
        account = Account.objects.create(name="a")
        transaction.set_autocommit(False)
        with transaction.atomic():
            account.name = "b"
            account.save()
        account.name = "c"
        account.save()
        transaction.commit()
        transaction.set_autocommit(True)
        assert [e.changes for e in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "c"]},
        ]
        # On SQLite the block's release committed "b" already (see below).
        transactions = 2 if connection.vendor == "sqlite" else 1
        assert len({e.txid for e in events(action="update")}) == transactions

    def test_a_rolled_back_save_is_diffed_again(self) -> None:
        account = Account.objects.create(name="a")
        transaction.set_autocommit(False)
        account.name = "b"
        account.save()
        transaction.rollback()
        account.save()  # the database still holds "a"
        transaction.commit()
        transaction.set_autocommit(True)
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]

    def test_an_atomic_block_that_commits_in_a_manual_transaction_has_its_events(self) -> None:
        # On SQLite, a savepoint made outside a transaction is one: the block's
        # release commits it, before any commit() or rollback().
        transaction.set_autocommit(False)
        with transaction.atomic():
            account = Account.objects.create(name="x")
        transaction.rollback()
        transaction.set_autocommit(True)
        kept = Account.objects.filter(name="x").exists()
        assert kept is (connection.vendor == "sqlite")
        assert [e.object_repr for e in events(action="create")] == (["x"] if kept else [])
        if kept:
            account.name = "y"
            account.save()  # diffed against what that release committed
            assert events(action="update")[0].changes == {"name": ["x", "y"]}

    def test_a_failed_write_in_a_manual_transaction_keeps_the_change_out(self) -> None:
        transaction.set_autocommit(False)
        with mock.patch("signalkit.audit.writer._insert", side_effect=OperationalError("full")):
            with pytest.raises(OperationalError):
                Account.objects.create(name="lost")  # the transaction is rolled back
            transaction.commit()
            with pytest.raises(OperationalError):
                with transaction.atomic():
                    # Written now on SQLite (see above), at the commit on PostgreSQL.
                    Account.objects.create(name="lost too")
                transaction.commit()
        transaction.set_autocommit(True)
        assert not Account.objects.exists()

    def test_a_failed_write_in_a_block_without_savepoint_refuses_the_commit(self) -> None:
        # Django deletes and changes many-to-many links in atomic(savepoint=False):
        # in a manual transaction nothing but the whole transaction can undo them.
        account = Account.objects.create(name="a")
        pk = account.pk
        label = Label.objects.create(name="l")
        for change in (account.delete, partial(account.labels.add, label)):
            account.pk = pk  # (a delete that returns sets it to None)
            transaction.set_autocommit(False)
            with mock.patch("signalkit.audit.writer._insert", side_effect=OperationalError("full")):
                if connection.vendor == "sqlite":  # written at once (see above)
                    with pytest.raises(OperationalError):
                        change()
                    with pytest.raises(TransactionManagementError, match="audit event"):
                        transaction.commit()
                else:  # written at the commit
                    change()
                    with pytest.raises(OperationalError):
                        transaction.commit()
            transaction.set_autocommit(True)
            assert Account.objects.filter(pk=pk).exists()
            assert not Account.labels.through.objects.exists()
        assert [e.action for e in events()] == ["create"]
        Account.objects.create(name="b")  # the connection works

    def test_the_refusal_lasts_until_a_rollback_undoes_the_change(self) -> None:
        if connection.vendor != "sqlite":
            self.skipTest("elsewhere the events of such blocks wait for the commit")
        account = Account.objects.create(name="a")
        failing = mock.patch("signalkit.audit.writer._insert", side_effect=OperationalError("x"))
        # A later atomic block does not lift the refusal...
        transaction.set_autocommit(False)
        with failing, contextlib.suppress(OperationalError):
            account.delete()
        with transaction.atomic():
            Label.objects.create(name="later")
        with pytest.raises(TransactionManagementError):
            transaction.commit()
        assert Account.objects.filter(name="a").exists()
        assert not Label.objects.exists()
        # ... but a savepoint that rolled the change back does.
        with failing, contextlib.suppress(OperationalError), transaction.atomic():
            Account.objects.get(name="a").delete()
        Label.objects.create(name="kept")
        transaction.commit()
        transaction.set_autocommit(True)
        assert Account.objects.filter(name="a").exists()
        assert list(Label.objects.values_list("name", flat=True)) == ["kept"]
        assert [e.action for e in events()] == ["create"]

    def test_a_failed_commit_keeps_or_drops_the_snapshots_as_the_database_does(self) -> None:
        if connection.vendor == "mysql":
            self.skipTest("MySQL checks foreign keys at once: no commit fails this way.")
        account = Account.objects.create(name="a")
        transaction.set_autocommit(False)
        account.name = "b"
        account.save()
        # A dangling key: foreign keys are checked at the commit.
        Account.objects.filter(pk=account.pk).update(owner_id=999_999)
        with pytest.raises(IntegrityError):
            transaction.commit()
        if connection.vendor == "postgresql":
            # The transaction is over: "b" was never committed; saved again, it
            # is diffed against "a".
            account.save()
        else:
            # SQLite keeps the transaction open: fixed, it commits "b".
            Account.objects.filter(pk=account.pk).update(owner_id=None)
        transaction.commit()
        transaction.set_autocommit(True)
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]
        account.name = "c"
        account.save()
        assert events(action="update")[-1].changes == {"name": ["b", "c"]}

    def test_turning_autocommit_on_counts_as_the_commit_where_it_is_one(self) -> None:
        account = Account.objects.create(name="a")
        transaction.set_autocommit(False)
        with transaction.atomic(savepoint=False):
            account.name = "b"
            account.save()  # the new snapshot waits for the commit
        if connection.vendor == "postgresql":
            # psycopg refuses while a transaction is open: it goes on.
            with pytest.raises(Exception, match="autocommit"):
                transaction.set_autocommit(True)
            transaction.commit()
            transaction.set_autocommit(True)
        else:
            transaction.set_autocommit(True)  # SQLite commits the transaction
            assert not hooks.of(connections["default"]).entries
        transaction.set_autocommit(False)
        transaction.rollback()  # drops what is left of that transaction: nothing
        transaction.set_autocommit(True)
        account.name = "c"
        account.save()  # diffed against the snapshot the commit kept
        assert [e.changes for e in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "c"]},
        ]


@audited()
class PickledInTransactionTests(TransactionTestCase):
    def test_values_read_inside_a_rolled_back_transaction_are_not_kept(self) -> None:
        account = Account.objects.create(name="a")
        with pytest.raises(Boom), transaction.atomic():
            account.name = "b"
            account.save()
            pickled = pickle.loads(pickle.dumps(account))
            pickled.api_key = "k"
            pickled.save()  # reads the old name ("b") inside the transaction
            raise Boom
        pickled.name = "c"
        pickled.save()  # the database holds "a"
        names = [e.changes["name"] for e in events(action="update") if "name" in e.changes]
        assert names == [["a", "c"]]

    def test_a_value_changed_in_an_outer_savepoint_is_not_kept(self) -> None:
        account = Account.objects.create(name="a")
        with transaction.atomic():
            account.name = "b"
            account.save()
            with pytest.raises(Boom), transaction.atomic():
                account.name = "a"
                account.save()
                blob = pickle.dumps(account)
                raise Boom
        pickled = pickle.loads(blob)
        pickled.name = "c"
        pickled.save()
        assert [e.changes for e in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "c"]},
        ]

    def test_on_error_log_covers_an_unreachable_database(self) -> None:
        real = connections["default"]
        with (
            audited(ON_ERROR="log"),
            self.assertLogs("signalkit.audit", "ERROR"),
            mock.patch.object(real, "ensure_connection", side_effect=OperationalError("down")),
        ):
            audit.record("exported")

    def test_a_delete_reads_the_old_values_the_instance_cannot_know(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        loaded = Account.objects.only("name").get(pk=account.pk)
        loaded.balance = 5  # deferred at load time, assigned, never saved
        loaded.delete()
        (deleted,) = events(action="delete")
        assert deleted.changes["balance"] == ["1.00", None]
