"""refresh_from_db() refreshes the old values of the next update."""

from __future__ import annotations

import contextlib
import copy
import datetime
import decimal
import pickle
import threading
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.db import IntegrityError, connections, transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_save
from django.test import TestCase, TransactionTestCase

from signalkit.audit import hooks, snapshot
from signalkit.testing import mute_signals
from tests.audit_utils import (
    AUDITED,
    audited,
    close_thread_connections,
    events,
    queries_with_log,
    run_sql,
)
from tests.auditapp.models import Account, Cupboard, Shelf, Token, VipAccount


@audited()
class RefreshTests(TestCase):
    def test_a_refreshed_instance_records_only_its_own_changes(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        run_sql("UPDATE auditapp_account SET balance = 9")
        account.refresh_from_db()
        account.name = "b"
        account.save()
        assert events(action="update")[-1].changes == {"name": ["a", "b"]}

    def test_only_the_fields_refreshed(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        run_sql("UPDATE auditapp_account SET balance = 9")
        account.name = "b"  # changed here, and not refreshed: it stays a change
        account.refresh_from_db(fields=["balance"])
        account.save()
        assert events(action="update")[-1].changes == {"name": ["a", "b"]}

    def test_a_proxy_and_the_async_variant(self) -> None:
        account = VipAccount.objects.create(name="a", balance=1)
        run_sql("UPDATE auditapp_account SET balance = 9")
        async_to_sync(account.arefresh_from_db)()
        account.name = "b"
        account.save()
        assert events(action="update")[-1].changes == {"name": ["a", "b"]}

    def test_a_deferred_field_loaded_on_access_needs_no_read_at_save(self) -> None:
        Account.objects.create(name="a", balance=decimal.Decimal(2))
        account = Account.objects.only("name").get()
        assert account.balance == 2  # Django loads it now, with refresh_from_db()
        account.balance = decimal.Decimal(5)
        with queries_with_log() as queries:
            account.save()
        assert len(queries) == 2  # the UPDATE and the event's INSERT: no read
        assert events(action="update")[-1].changes == {"balance": ["2.00", "5.00"]}

    def test_values_refreshed_in_a_rolled_back_transaction_are_forgotten(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        with transaction.atomic():
            run_sql("UPDATE auditapp_account SET balance = 9")
            account.refresh_from_db()
            transaction.set_rollback(True)
        # The database holds 1 again; the instance still holds 9, and saves it.
        account.name = "b"
        account.save()
        assert events(action="update")[-1].changes == {
            "name": ["a", "b"],
            "balance": ["1.00", "9.00"],
        }

    def test_the_wrappers_follow_the_settings(self) -> None:
        # refresh_from_db, save_base and _save_table (see test_audit_nested.py).
        for name, mark in (
            ("refresh_from_db", "__signalkit_refresh__"),
            ("save_base", "__signalkit_saves__"),
            ("_save_table", "__signalkit_writes__"),
        ):
            assert getattr(getattr(Account, name), mark, False)
            with audited(MODELS=["auditapp.Note"]):
                assert not getattr(getattr(Account, name), mark, False)
                assert name not in Account.__dict__
            assert getattr(getattr(Account, name), mark, False)
            assert name not in VipAccount.__dict__  # inherits Account's


def strip_name(self: Account, *args: Any, **kwargs: Any) -> None:
    """A model's own refresh_from_db() that changes a value after Django's."""
    Model.refresh_from_db(self, *args, **kwargs)
    self.name = self.name.strip()


if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def refreshed_after_save() -> Iterator[None]:
    """A post_save receiver that refreshes every saved Account, connected now:
    before the audit's own when audited() reconnects them inside the block."""

    def reload(sender: Any, instance: Account, created: bool, **kwargs: Any) -> None:
        instance.refresh_from_db()

    post_save.connect(reload, sender=Account, dispatch_uid="reload")
    try:
        yield
    finally:
        post_save.disconnect(sender=Account, dispatch_uid="reload")


@audited()
class RefreshEdgeTests(TestCase):
    def test_a_post_save_receiver_that_refreshes_keeps_the_event(self) -> None:
        # Connected before the audit's receivers (audited() reconnects them).
        account = Account.objects.create(name="a", balance=1)
        with refreshed_after_save(), audited():
            account.name = "b"
            account.save()
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]

    def test_a_refresh_after_a_failed_save_counts(self) -> None:
        # An optimistic-locking retry: the save fails, the instance is refreshed
        # (another process changed the row), and the save is tried again.
        account = Account.objects.create(name="a", balance=1)
        account.name = "b"
        with pytest.raises(RuntimeError), failing_pre_save():
            account.save()
        run_sql("UPDATE auditapp_account SET balance = 9")
        account.refresh_from_db()
        account.name = "c"
        account.save()
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "c"]}]

    def test_fields_given_as_a_generator(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        run_sql("UPDATE auditapp_account SET balance = 9")
        account.refresh_from_db(fields=(name for name in ["balance"]))
        account.name = "b"
        account.save()
        assert events(action="update")[-1].changes == {"name": ["a", "b"]}

    def test_a_field_the_queryset_defers_is_not_refreshed(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        account.balance = decimal.Decimal(5)  # not saved, and not refreshed below
        account.refresh_from_db(from_queryset=Account.objects.defer("balance"))
        assert account.balance == 5
        account.save()
        assert events(action="update")[-1].changes == {"balance": ["1.00", "5.00"]}

    def test_a_models_own_refresh_is_not_taken_for_the_database(self) -> None:
        account = Account.objects.create(name="  x  ")
        with (
            audited(MODELS=["auditapp.Note"]),
            mock.patch.object(Account, "refresh_from_db", strip_name),
            audited(),
        ):
            account.refresh_from_db()
            account.save()  # writes "x": a change
        assert events(action="update")[-1].changes == {"name": ["  x  ", "x"]}
        assert "refresh_from_db" not in Account.__dict__ or is_wrapped(Account)

    def test_an_instance_built_in_memory_and_refreshed(self) -> None:
        pk = Account.objects.create(name="a", balance=1).pk
        account = Account(pk=pk)
        account.refresh_from_db()
        account.name = "b"
        account.save()
        assert events(action="update")[-1].changes == {"name": ["a", "b"]}

    def test_reading_deferred_fields_in_a_transaction_holds_nothing_until_commit(self) -> None:
        for n in range(3):
            Account.objects.create(name=f"a{n}", balance=n)
        real = connections["default"]
        with transaction.atomic():
            before = len(hooks.of(real).entries)
            for account in Account.objects.only("name"):
                assert account.balance is not None  # a refresh_from_db() each
            assert len(hooks.of(real).entries) == before

    def test_a_partial_refresh_of_an_instance_loaded_unaudited(self) -> None:
        with audited(MODELS=["auditapp.Note"]):
            account = Account.objects.create(name="a", balance=1)
            account = Account.objects.get(pk=account.pk)  # no snapshot
        account.refresh_from_db(fields=["name"])
        account.balance = decimal.Decimal(5)  # assigned, never saved
        account.delete()
        (deleted,) = events(action="delete")
        assert deleted.changes["balance"] == ["1.00", None]  # read, not the unsaved 5


@audited(MODELS={**AUDITED["AUDIT"]["MODELS"], "auditapp.Shelf": {}, "auditapp.Cupboard": {}})
class RefreshCopiesTests(TestCase):
    """Instances copied, pickled, keyed or loaded in other ways."""

    def changed_elsewhere(self) -> Account:
        account = Account.objects.create(name="a", balance=1)
        run_sql("UPDATE auditapp_account SET balance = 9")
        return account

    def refresh_rename_and_check(self, account: Account, **refresh: Any) -> None:
        """Refresh ``account``, save a new name: only that change is recorded."""
        account.refresh_from_db(**refresh)
        account.name = "b"
        account.save()
        assert events(action="update")[-1].changes == {"name": ["a", "b"]}

    def test_a_failed_insert_then_a_refresh(self) -> None:
        account = self.changed_elsewhere()
        with pytest.raises(IntegrityError), transaction.atomic():
            account.save(force_insert=True)
        self.refresh_rename_and_check(account)

    def test_a_save_with_post_save_muted_then_a_refresh(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        with mute_signals(post_save):
            account.name = "m"
            account.save()
        run_sql("UPDATE auditapp_account SET balance = 9")
        account.refresh_from_db()
        account.name = "b"
        account.save()
        assert events(action="update")[-1].changes == {"name": ["m", "b"]}

    def test_a_shallow_copy_saved_leaves_the_original_refreshable(self) -> None:
        Account.objects.create(name="a", balance=1)
        original = Account.objects.defer("born").get()
        duplicate = copy.copy(original)
        duplicate.born = datetime.date(2020, 1, 1)
        duplicate.save()
        run_sql("UPDATE auditapp_account SET balance = 9")
        self.refresh_rename_and_check(original)

    def test_pickled_instances(self) -> None:
        account = self.changed_elsewhere()
        unpickled = pickle.loads(pickle.dumps(Account.objects.get(pk=account.pk)))
        self.refresh_rename_and_check(unpickled)
        token = pickle.loads(pickle.dumps(Token(label="t")))  # a key already, unsaved
        token.save()
        assert events(action="create", model_label="auditapp.Token")

    def test_a_state_pickled_by_an_earlier_version_loads(self) -> None:
        state = snapshot.SnapshotState.__new__(snapshot.SnapshotState)
        state.__setstate__(({"name": "a"}, False))
        assert (state.committed, state.partial, state.refreshed) == ({"name": "a"}, False, False)

    def test_a_deep_copy_of_a_refreshed_instance_built_in_memory(self) -> None:
        pk = Account.objects.create(name="a", balance=1).pk
        account = Account(pk=pk)
        account.refresh_from_db()
        clone = copy.deepcopy(account)
        clone.name = "b"
        clone.save()
        assert events(action="update")[-1].changes == {"name": ["a", "b"]}

    def test_a_partial_refresh_of_an_instance_built_in_memory(self) -> None:
        pk = Account.objects.create(name="a", balance=1).pk
        account = Account(pk=pk, name="x", balance=5)
        account.refresh_from_db(fields=["name"])  # the balance stays the constructor's
        account.name = "b"
        account.save()
        changes = events(action="update")[-1].changes
        assert changes["name"] == ["a", "b"]
        assert changes["balance"] in ([None, "5.00"], ["1.00", "5.00"])

    def test_a_key_of_another_python_type(self) -> None:
        account = self.changed_elsewhere()
        account.pk = str(account.pk)
        self.refresh_rename_and_check(account)

    def test_a_copy_loaded_through_a_proxy_or_a_child(self) -> None:
        account = self.changed_elsewhere()
        self.refresh_rename_and_check(account, from_queryset=VipAccount.objects.all())
        shelf = Shelf.objects.get(pk=Cupboard.objects.create(name="a").pk)
        run_sql("UPDATE auditapp_shelf SET name = 'z'")
        shelf.refresh_from_db(from_queryset=Cupboard.objects.all())
        shelf.save()
        assert events(action="update", model_label="auditapp.Shelf") == []

    def test_an_instance_without_snapshot_refreshed_by_a_receiver_of_its_save(self) -> None:
        pk = Account.objects.create(name="a", balance=1).pk
        with refreshed_after_save(), audited():  # the audit's receivers run after
            with audited(MODELS=["auditapp.Note"]):
                account = Account.objects.get(pk=pk)  # loaded unaudited: no snapshot
            account.name = "b"
            account.save()  # reads its row first
        assert events(action="update")[-1].changes == {"name": ["a", "b"]}


@audited()
class RefreshDuringSaveTests(TransactionTestCase):
    """Refreshes by receivers of a save: after its UPDATE, before the audit's own
    post_save receiver (refreshed_after_save() connects one before it)."""

    def test_an_instance_built_in_memory(self) -> None:
        pk = Account.objects.create(name="a", balance=1).pk
        with refreshed_after_save(), audited():
            Account(pk=pk, name="b", balance=1).save()  # reads its row first
        changes = events(action="update")[-1].changes
        assert changes["name"] == ["a", "b"]
        assert "balance" not in changes

    def test_update_fields_keep_what_the_refresh_read_for_the_others(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        run_sql("UPDATE auditapp_account SET balance = 9")
        with refreshed_after_save(), audited():
            account.name = "b"
            account.save(update_fields=["name"])
        assert account.balance == 9
        account.name = "c"
        account.save()
        assert [e.changes for e in events(action="update")] == [
            {"name": ["a", "b"]},
            {"name": ["b", "c"]},
        ]

    def test_a_savepoint_that_rolls_back_takes_the_refresh_with_it(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        with transaction.atomic():
            with (
                refreshed_after_save(),
                audited(),
                pytest.raises(RuntimeError),
                transaction.atomic(),
            ):
                account.name = "b"
                account.save()
                raise RuntimeError
            account.save()  # the row holds "a" again: this writes "b"
        assert Account.objects.get().name == "b"
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]

    def test_a_refresh_by_another_thread_during_the_save(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def refresh_elsewhere() -> None:
            try:
                account.refresh_from_db()
            finally:
                close_thread_connections()

        def after_the_update(execute: Any, sql: str, params: Any, many: bool, ctx: Any) -> Any:
            result = execute(sql, params, many, ctx)
            if sql.lstrip().startswith("UPDATE") and "auditapp_account" in sql:
                thread = threading.Thread(target=refresh_elsewhere)
                thread.start()
                thread.join()
            return result

        account.name = "b"
        with connections["default"].execute_wrapper(after_the_update):
            account.save()
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]

    def test_a_save_that_failed_in_another_thread_leaves_nothing_here(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def fail() -> None:
            with pytest.raises(RuntimeError), failing_pre_save():
                account.save()
            close_thread_connections()

        thread = threading.Thread(target=fail)
        thread.start()
        thread.join()
        account.name = "b"
        with mute_signals(pre_save), transaction.atomic():
            account.save()
        assert events(action="update")[-1].changes == {"name": ["a", "b"]}


@contextlib.contextmanager
def failing_pre_save() -> Iterator[None]:
    """A pre_save receiver, after the audit's, that fails the save."""

    def conflict(sender: Any, instance: Account, **kwargs: Any) -> None:
        raise RuntimeError("modified meanwhile")

    pre_save.connect(conflict, sender=Account, dispatch_uid="conflict")
    try:
        yield
    finally:
        pre_save.disconnect(sender=Account, dispatch_uid="conflict")


def is_wrapped(model: type[Model]) -> bool:
    return bool(getattr(model.refresh_from_db, "__signalkit_refresh__", False))
