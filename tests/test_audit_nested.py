"""Saves in progress: nested saves (a post_save receiver that saves the instance
again), failed saves, refreshes during a save, and threads.

Receivers connected with before_audit() run before the audit's own receivers:
the nested save's audit runs before the outer one's.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import decimal
import pickle
import sys
import threading
from typing import TYPE_CHECKING, Any

import django
import pytest
from django.db import connections, transaction
from django.db.models import F, Model
from django.db.models.signals import post_save, pre_save
from django.test import SimpleTestCase, TransactionTestCase

from signalkit.audit import batch, saves, snapshot
from signalkit.testing import mute_signals
from tests.audit_utils import audited, close_thread_connections, events, run_sql
from tests.auditapp.models import Account
from tests.test_audit_refresh import failing_pre_save, refreshed_after_save

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

D = decimal.Decimal


@contextlib.contextmanager
def connected(receiver: Callable[..., None], signal: Any = post_save) -> Iterator[None]:
    """``receiver`` connected to ``signal`` for Account in the block: after the
    audit's receivers, unless audited() reconnects those in the block."""
    uid = f"connected-{id(receiver)}"
    signal.connect(receiver, sender=Account, dispatch_uid=uid, weak=False)
    try:
        yield
    finally:
        signal.disconnect(sender=Account, dispatch_uid=uid)


@contextlib.contextmanager
def before_audit(receiver: Callable[..., None], signal: Any = post_save) -> Iterator[None]:
    """``receiver`` connected to ``signal`` before the audit's receivers."""
    with connected(receiver, signal), audited():
        yield


def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
    """A post_save receiver that refreshes the instance and saves it again with
    balance 2 (once: the nested save finds balance 2)."""
    if instance.balance == 1:
        instance.refresh_from_db()
        instance.balance = 2
        instance.save(update_fields=["balance"])


def updates() -> list[dict[str, Any]]:
    return [e.changes for e in events(action="update")]


def row() -> tuple[str, D]:
    return Account.objects.values_list("name", "balance").get()


# The nested save's event first (its audit receiver runs first), then a later save's.
NESTED = [{"balance": ["1.00", "2.00"]}, {"name": ["a", "b"]}, {"balance": ["2.00", "3.00"]}]


@audited()
class NestedSaveTests(TransactionTestCase):
    def saved_again(self, *, refresh: bool, atomic: bool, reload: bool = False) -> list[Any]:
        account = Account.objects.create(name="a", balance=1)

        def stamp(sender: Any, instance: Account, created: bool, **kwargs: Any) -> None:
            if instance.balance == 1:
                if refresh:
                    instance.refresh_from_db()
                instance.balance = 2
                instance.save(update_fields=["balance"])

        with (
            connected(stamp),
            refreshed_after_save() if reload else contextlib.nullcontext(),
            audited(),
            transaction.atomic() if atomic else contextlib.nullcontext(),
        ):
            account.name = "b"
            account.save()
        assert Account.objects.values_list("name", "balance").get() == ("b", decimal.Decimal(2))
        account.balance = 3  # and the snapshot holds what the row holds
        account.save()
        return [e.changes for e in events(action="update")]

    def test_each_change_is_recorded_once(self) -> None:
        assert self.saved_again(refresh=False, atomic=False) == NESTED

    def test_a_refresh_before_the_nested_save(self) -> None:
        assert self.saved_again(refresh=True, atomic=False) == NESTED

    def test_a_refresh_before_the_nested_save_in_a_transaction(self) -> None:
        assert self.saved_again(refresh=True, atomic=True) == NESTED

    def test_a_refresh_during_the_nested_save(self) -> None:
        # refreshed_after_save() refreshes in both saves' post_save, the
        # nested one's first, while the outer save is still in progress.
        assert self.saved_again(refresh=False, atomic=True, reload=True) == NESTED

    # ---- the overlapping field: the outer save's change is lost --------------

    def nested_rename(self, *, refresh: bool) -> list[dict[str, Any]]:
        account = Account.objects.create(name="a", balance=1)

        def rename(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.name == "b":
                if refresh:
                    instance.refresh_from_db()
                instance.name = "c"
                instance.save(update_fields=["name"])

        with before_audit(rename):
            account.name = "b"
            account.save()
        assert row()[0] == "c"
        return updates()

    def test_both_saves_change_one_field_after_a_refresh(self) -> None:
        # The row went a -> b (outer UPDATE) -> c (nested UPDATE): the nested
        # save found "b", what the outer one wrote.
        assert self.nested_rename(refresh=True) == [{"name": ["b", "c"]}, {"name": ["a", "b"]}]

    def test_a_nested_save_that_reverts_the_change_after_a_refresh(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def revert(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.name == "b":
                instance.refresh_from_db()
                instance.name = "a"
                instance.save(update_fields=["name"])

        with before_audit(revert):
            account.name = "b"
            account.save()
        assert row()[0] == "a"
        assert updates() == [{"name": ["b", "a"]}, {"name": ["a", "b"]}]
        account.name = "z"
        account.save()
        assert updates()[-1] == {"name": ["a", "z"]}

    def test_both_saves_change_one_field(self) -> None:
        # The nested save's audit runs first, from the old values: it records both.
        assert self.nested_rename(refresh=False) == [{"name": ["a", "c"]}]

    # ---- frames that outlive later successful saves --------------------------

    def test_a_failed_save_leaves_nothing_for_a_later_refresh(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        account.name = "b"
        with pytest.raises(RuntimeError), failing_pre_save():
            account.save()
        account.save()  # succeeds: a -> b
        run_sql("UPDATE auditapp_account SET balance = 9")  # another process, committed
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            account.refresh_from_db()  # reads the committed 9
            1 / 0  # noqa: B018 -- the transaction fails for an unrelated reason
        account.name = "c"
        account.save()
        assert updates() == [{"name": ["a", "b"]}, {"name": ["b", "c"]}]

    def test_a_refresh_in_a_transaction_that_rolls_back(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        account.name = "b"
        account.save()
        run_sql("UPDATE auditapp_account SET balance = 9")
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            account.refresh_from_db()
            1 / 0  # noqa: B018
        account.name = "c"
        account.save()
        assert updates() == [{"name": ["a", "b"]}, {"name": ["b", "c"]}]

    def test_a_save_with_post_save_muted_leaves_nothing_for_a_later_refresh(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        with mute_signals(post_save):
            account.name = "m"
            account.save()  # no event (muted), leaves a frame
        account.name = "b"
        account.save()  # m -> b
        run_sql("UPDATE auditapp_account SET balance = 9")
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            account.refresh_from_db()
            1 / 0  # noqa: B018
        account.name = "c"
        account.save()
        # (the first event is a -> b: the muted save never advanced the snapshot)
        assert updates()[-1] == {"name": ["b", "c"]}

    def test_a_save_that_failed_in_another_thread_leaves_nothing(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def fail() -> None:
            try:
                with pytest.raises(RuntimeError), failing_pre_save():
                    account.save()
            finally:
                close_thread_connections()

        thread = threading.Thread(target=fail)
        thread.start()
        thread.join()
        account.name = "b"
        account.save()
        run_sql("UPDATE auditapp_account SET balance = 9")
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            account.refresh_from_db()
            1 / 0  # noqa: B018
        account.name = "c"
        account.save()
        assert updates() == [{"name": ["a", "b"]}, {"name": ["b", "c"]}]

    def test_a_failed_save_leaves_nothing_for_a_save_with_pre_save_muted(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        with pytest.raises(RuntimeError), failing_pre_save():
            account.save()
        account.refresh_from_db()
        account.name = "b"
        account.save()  # a -> b, fine
        run_sql("UPDATE auditapp_account SET balance = 9")  # another process
        account.refresh_from_db()
        account.name = "c"
        with mute_signals(pre_save):
            account.save()
        assert updates() == [{"name": ["a", "b"]}, {"name": ["b", "c"]}]

    # ---- a nested save that fails -------------------------------------------

    def test_a_nested_save_that_fails_after_a_refresh_then_is_retried(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        failures = [1]

        def fail_once(sender: Any, instance: Account, **kwargs: Any) -> None:
            if failures:
                failures.pop()
                raise RuntimeError("conflict")

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                instance.refresh_from_db()
                instance.balance = 2
                with connected(fail_once, pre_save), contextlib.suppress(RuntimeError):
                    instance.save(update_fields=["balance"])  # fails after the audit's pre_save
                instance.save(update_fields=["balance"])  # retried: succeeds

        with before_audit(stamp):
            account.name = "b"
            account.save()
        assert row() == ("b", D(2))
        assert updates() == [{"balance": ["1.00", "2.00"]}, {"name": ["a", "b"]}]

    def test_a_nested_save_that_fails(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                instance.balance = 2
                with contextlib.suppress(RuntimeError), failing_pre_save():
                    instance.save(update_fields=["balance"])
                instance.balance = 1  # gave up

        with before_audit(stamp):
            account.name = "b"
            account.save()
        assert updates() == [{"name": ["a", "b"]}]
        account.name = "c"
        account.save()
        assert updates() == [{"name": ["a", "b"]}, {"name": ["b", "c"]}]

    # ---- savepoints ----------------------------------------------------------

    def nested_in_rolled_back_savepoint(self, *, refresh: bool) -> list[dict[str, Any]]:
        account = Account.objects.create(name="a", balance=1)

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1 and instance.name == "b":
                if refresh:
                    instance.refresh_from_db()
                instance.balance = 2
                with contextlib.suppress(RuntimeError), transaction.atomic():
                    instance.save(update_fields=["balance"])
                    raise RuntimeError  # the nested save rolls back

        with before_audit(stamp), transaction.atomic():
            account.name = "b"
            account.save()
        assert row() == ("b", D(1))
        assert account.balance == 2  # in memory, not saved
        account.save()  # writes 2: a committed change 1 -> 2
        assert row() == ("b", D(2))
        return updates()

    def test_a_nested_save_rolled_back_after_a_refresh(self) -> None:
        # The outer save wrote what the nested one found (balance 1), and the
        # snapshot holds what the row holds: the later save records 1 -> 2.
        assert self.nested_in_rolled_back_savepoint(refresh=True) == [
            {"name": ["a", "b"]},
            {"balance": ["1.00", "2.00"]},
        ]

    def test_a_nested_save_rolled_back(self) -> None:
        # Without a refresh the outer save's audit reads the instance, which
        # holds the value the rolled-back save wrote: recorded there.
        assert self.nested_in_rolled_back_savepoint(refresh=False) == [
            {"name": ["a", "b"], "balance": ["1.00", "2.00"]},
        ]

    # ---- the outer transaction rolls back -----------------------------------

    def nested_in_its_own_block(self, *, refresh: str, thread: bool = False) -> list[Any]:
        """The nested save in its own atomic() block, which commits before the
        outer save's audit runs (the outer save is in autocommit)."""
        account = Account.objects.create(name="a", balance=1)

        def reload(sender: Any, instance: Account, **kwargs: Any) -> None:
            if kwargs.get("update_fields") == frozenset({"balance"}):
                instance.refresh_from_db()

        def save_in_a_block(instance: Account) -> None:
            with transaction.atomic():
                instance.save(update_fields=["balance"])

        def elsewhere(instance: Account) -> None:
            try:
                save_in_a_block(instance)
            finally:
                close_thread_connections()

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                if refresh == "outer":
                    instance.refresh_from_db()
                instance.balance = 2
                if thread:
                    worker = threading.Thread(target=elsewhere, args=[instance])
                    worker.start()
                    worker.join()
                else:
                    save_in_a_block(instance)

        with (
            before_audit(reload) if refresh == "nested" else contextlib.nullcontext(),
            before_audit(stamp),
        ):
            account.name = "b"
            account.save()
        assert row() == ("b", D(2))
        return updates()

    def test_a_nested_save_in_a_block_that_commits(self) -> None:
        assert self.nested_in_its_own_block(refresh="outer") == NESTED[:2]

    def test_a_nested_save_in_a_block_that_commits_in_another_thread(self) -> None:
        assert self.nested_in_its_own_block(refresh="outer", thread=True) == NESTED[:2]

    def test_a_refresh_during_a_nested_save_in_a_block_that_commits(self) -> None:
        assert self.nested_in_its_own_block(refresh="nested") == NESTED[:2]

    def test_a_nested_save_that_bypasses_the_wrapper(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                instance.refresh_from_db()
                instance.balance = 2
                Model.save_base(instance, update_fields=["balance"])

        with before_audit(stamp):
            account.name = "b"
            account.save()
        assert row() == ("b", D(2))
        assert updates() == NESTED[:2]
        assert not saves._active

    def test_a_nested_save_that_bypasses_the_wrapper_and_fails(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                instance.refresh_from_db()
                instance.balance = 2
                with contextlib.suppress(RuntimeError), failing_pre_save():
                    Model.save_base(instance, update_fields=["balance"])
                instance.balance = 1

        with before_audit(stamp):
            account.name = "b"
            account.save()
        assert updates() == [{"name": ["a", "b"]}]
        assert not saves._active

    def test_a_nested_save_that_bypasses_the_wrapper_and_fails_like_the_outer_one(self) -> None:
        # Same update_fields as the outer save: the failed save is told apart by
        # its call of Django's save_base, which has returned.
        account = Account.objects.create(name="a", balance=1)

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            fields = kwargs.get("update_fields")
            if instance.balance == 1 and fields == frozenset({"name", "balance"}):
                instance.refresh_from_db()
                instance.balance = 2
                with contextlib.suppress(RuntimeError), failing_pre_save():
                    Model.save_base(instance, update_fields=fields)
                instance.balance = 1  # gave up

        with before_audit(stamp):
            account.name = "b"
            account.save(update_fields=["name", "balance"])
        assert row() == ("b", D(1))
        assert updates() == [{"name": ["a", "b"]}]
        assert not saves._active

    def test_a_nested_save_of_the_outer_saves_field_in_a_batch(self) -> None:
        # The nested save's event is written first, but its change came second:
        # batch() keeps the two apart, as without it (merged in the order they
        # come, they read b -> b, and the change was lost).
        account = Account.objects.create(name="a", balance=1)

        def rename(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.name == "b":
                instance.refresh_from_db()
                instance.name = "c"
                instance.save(update_fields=["name"])

        with before_audit(rename), batch():
            account.name = "b"
            account.save()
        assert row()[0] == "c"
        assert updates() == [{"name": ["b", "c"]}, {"name": ["a", "b"]}]

    def test_a_save_in_pre_save_in_a_batch(self) -> None:
        # Nested in the outer save's pre_save, before its UPDATE: its change
        # came first. Kept apart too, each event from the values it found.
        account = Account.objects.create(name="a", balance=1)

        def touch(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1 and kwargs.get("update_fields") is None:
                instance.balance = 2
                instance.save(update_fields=["balance"])
                instance.balance = 3

        with before_audit(touch, pre_save), batch():
            account.name = "b"
            account.save()
        assert row() == ("b", D(3))
        assert updates() == [
            {"balance": ["1.00", "2.00"]},
            {"name": ["a", "b"], "balance": ["2.00", "3.00"]},
        ]

    def test_a_save_earlier_in_the_batch_then_a_nested_one(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def rename(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.name == "c":
                instance.refresh_from_db()
                instance.name = "d"
                instance.save(update_fields=["name"])

        with before_audit(rename), batch():
            account.name = "b"
            account.save()
            account.name = "c"
            account.save()
            account.balance = 2
            account.save()  # after them: not merged into an event out of order
        assert row() == ("d", D(2))
        assert updates() == [
            {"name": ["a", "b"]},
            {"name": ["c", "d"]},
            {"name": ["b", "c"]},
            {"balance": ["1.00", "2.00"]},
        ]

    def test_saves_one_after_the_other_in_a_batch_merge_in_their_order(self) -> None:
        # Not nested: merged as made, whatever the values (a -> b, then the row
        # is set to "x" by other means, then x -> a: no change of the name in all).
        account = Account.objects.create(name="a", balance=1)
        with batch():
            account.name = "b"
            account.save()
            Account.objects.filter(pk=account.pk).update(name="x")
            account.refresh_from_db()
            account.name = "a"
            account.save()
            account.balance = 2
            account.save()
        assert updates() == [{"balance": ["1.00", "2.00"]}]

    def test_a_change_by_other_means_before_the_refresh(self) -> None:
        # QuerySet.update() sends no signal: its change shows in the outer
        # save's event (the old value of the nested save is taken for what the
        # outer save wrote). Nothing is lost: 1 -> 7 -> 8.
        account = Account.objects.create(name="a", balance=1)

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.name == "b" and instance.balance == 1:
                Account.objects.filter(pk=instance.pk).update(balance=7)
                instance.refresh_from_db()
                instance.balance = 8
                instance.save(update_fields=["balance"])

        with before_audit(stamp):
            account.name = "b"
            account.save()
        assert row() == ("b", D(8))
        assert updates() == [
            {"balance": ["7.00", "8.00"]},
            {"name": ["a", "b"], "balance": ["1.00", "7.00"]},
        ]

    def test_a_refresh_in_pre_save_after_the_audits(self) -> None:
        # Before the UPDATE, a refresh reads the old values: another process's
        # change is not this save's.
        account = Account.objects.create(name="a", balance=1)
        run_sql("UPDATE auditapp_account SET balance = 9")

        def reload(sender: Any, instance: Account, **kwargs: Any) -> None:
            instance.refresh_from_db(fields=["balance"])

        with connected(reload, pre_save):  # after the audit's
            account.name = "b"
            account.save()
        account.balance = 10
        account.save()
        assert updates() == [{"name": ["a", "b"]}, {"balance": ["9.00", "10.00"]}]

    def test_a_save_in_pre_save_after_a_refresh_there(self) -> None:
        # Refreshed, saved again and changed, all in a pre_save receiver after
        # the audit's: the outer save has not written yet.
        account = Account.objects.create(name="a", balance=1)

        def touch(sender: Any, instance: Account, **kwargs: Any) -> None:
            if kwargs.get("update_fields") is None and instance.balance == 1:
                instance.refresh_from_db(fields=["balance"])
                instance.balance = 2
                instance.save(update_fields=["balance"])
                instance.balance = 3

        with connected(touch, pre_save):  # after the audit's
            account.name = "b"
            account.save()
        assert row() == ("b", D(3))
        account.balance = 4
        account.save()
        assert updates() == [
            {"balance": ["1.00", "2.00"]},
            {"name": ["a", "b"], "balance": ["2.00", "3.00"]},
            {"balance": ["3.00", "4.00"]},
        ]

    def test_a_receiver_that_deletes_the_instance(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        pk = str(account.pk)

        def drop(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.name == "b":
                instance.delete()

        with before_audit(drop):
            account.name = "b"
            account.save()
        assert not Account.objects.filter(name__in=["a", "b"]).exists()
        # Both events name the row, in the object's history.
        assert [(e.action, e.object_pk) for e in events(action__in=["update", "delete"])] == [
            ("delete", pk),
            ("update", pk),
        ]
        assert updates() == [{"name": ["a", "b"]}]

    def test_a_receiver_that_deletes_a_new_instance(self) -> None:
        def drop(sender: Any, instance: Account, created: bool, **kwargs: Any) -> None:
            if created:
                instance.delete()

        with before_audit(drop):
            Account.objects.create(name="a", balance=1)
        keys = {e.action: e.object_pk for e in events()}
        assert not Account.objects.filter(name__in=["a", "b"]).exists()
        assert keys["create"] == keys["delete"] != ""

    def test_the_outer_transaction_rolls_back(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        with before_audit(stamp), pytest.raises(ZeroDivisionError), transaction.atomic():
            account.name = "b"
            account.save()
            1 / 0  # noqa: B018
        assert updates() == []
        assert row() == ("a", D(1))
        account.save()  # (b, 2) in memory
        assert updates() == [{"name": ["a", "b"], "balance": ["1.00", "2.00"]}]

    # ---- shapes that should work ----------------------------------------------

    def two_levels(self, *, refresh: bool, atomic: bool) -> list[dict[str, Any]]:
        account = Account.objects.create(name="a", balance=1)

        def level(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                if refresh:
                    instance.refresh_from_db()
                instance.balance = 2
                instance.save(update_fields=["balance"])
            elif instance.balance == 2 and instance.born is None:
                if refresh:
                    instance.refresh_from_db()
                instance.born = datetime.date(2020, 1, 1)
                instance.save(update_fields=["born"])

        with (
            before_audit(level),
            transaction.atomic() if atomic else contextlib.nullcontext(),
        ):
            account.name = "b"
            account.save()
        account.name = "z"
        account.save()
        return updates()

    TWO = [
        {"born": [None, "2020-01-01"]},
        {"balance": ["1.00", "2.00"]},
        {"name": ["a", "b"]},
        {"name": ["b", "z"]},
    ]

    def test_two_levels(self) -> None:
        assert self.two_levels(refresh=False, atomic=False) == self.TWO

    def test_two_levels_atomic(self) -> None:
        assert self.two_levels(refresh=False, atomic=True) == self.TWO

    def test_two_levels_refresh(self) -> None:
        assert self.two_levels(refresh=True, atomic=False) == self.TWO

    def test_two_levels_refresh_atomic(self) -> None:
        assert self.two_levels(refresh=True, atomic=True) == self.TWO

    def test_a_full_nested_save_in_a_save_of_some_fields(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                instance.refresh_from_db()
                instance.balance = 2
                instance.save()

        with before_audit(stamp):
            account.name = "b"
            account.save(update_fields=["name"])
        account.name = "z"
        account.save()
        assert updates() == [
            {"balance": ["1.00", "2.00"]},
            {"name": ["a", "b"]},
            {"name": ["b", "z"]},
        ]

    def test_a_receiver_after_the_audits(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        with connected(stamp):  # after the audit's
            account.name = "b"
            account.save()
        account.name = "z"
        account.save()
        assert updates() == [
            {"name": ["a", "b"]},
            {"balance": ["1.00", "2.00"]},
            {"name": ["b", "z"]},
        ]

    def test_refresh_in_nested_pre_save_after_the_audits(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def partial_refresh(sender: Any, instance: Account, **kwargs: Any) -> None:
            if kwargs.get("update_fields") == frozenset({"balance"}):
                instance.refresh_from_db(fields=["name"])

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                instance.balance = 2
                instance.save(update_fields=["balance"])

        with before_audit(stamp), connected(partial_refresh, pre_save):  # (after)
            account.name = "b"
            account.save()
        account.name = "z"
        account.save()
        assert updates() == [
            {"balance": ["1.00", "2.00"]},
            {"name": ["a", "b"]},
            {"name": ["b", "z"]},
        ]

    def test_in_a_batch(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        with before_audit(stamp), batch():
            account.name = "b"
            account.save()
        account.name = "z"
        account.save()
        # Not merged: a nested save's event is kept apart (see the next tests).
        assert updates() == [*NESTED[:2], {"name": ["b", "z"]}]

    def test_copies_taken_during_the_save(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        seen: list[Any] = []

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                seen.append(copy.deepcopy(instance))
                seen.append(pickle.loads(pickle.dumps(instance)))
                seen.append(copy.copy(instance))
                instance.refresh_from_db()
                instance.balance = 2
                instance.save(update_fields=["balance"])

        with before_audit(stamp):
            account.name = "b"
            account.save()
        assert updates() == [{"balance": ["1.00", "2.00"]}, {"name": ["a", "b"]}]
        for n, clone in enumerate(seen):
            clone.refresh_from_db()
            clone.name = f"t{n}"
            clone.save()
        assert updates()[2:] == [
            {"name": ["b", "t0"]},
            {"name": ["t0", "t1"]},
            {"name": ["t1", "t2"]},
        ]

    def test_a_nested_expression_in_a_transaction(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                instance.refresh_from_db()
                instance.balance = F("balance") + 1
                instance.save(update_fields=["balance"])

        with before_audit(stamp), transaction.atomic():
            account.name = "b"
            account.save()
        assert row() == ("b", D(2))
        got = updates()
        assert got == [{"balance": ["1.00", "2.00"]}, {"name": ["a", "b"]}], got

    def test_a_nested_expression_in_autocommit(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                instance.refresh_from_db()
                instance.balance = F("balance") + 1
                instance.save(update_fields=["balance"])

        with before_audit(stamp):
            account.name = "b"
            account.save()
        # Django 5.2 leaves the expression on the instance, and in autocommit
        # its value cannot be known (see the expression tests): the outer save
        # records the text again. Django 6 returns the value.
        got = updates()
        assert got[-1]["name"] == ["a", "b"], got
        assert got[0] == {"balance": ["1.00", "2.00"]} or django.VERSION < (6,), got

    def test_a_nested_save_with_pre_save_muted(self) -> None:
        account = Account.objects.create(name="a", balance=1)

        def stamp(sender: Any, instance: Account, **kwargs: Any) -> None:
            if instance.balance == 1:
                instance.refresh_from_db()
                instance.balance = 2
                with mute_signals(pre_save):
                    instance.save(update_fields=["balance"])

        with before_audit(stamp):
            account.name = "b"
            account.save()
        assert updates() == [{"balance": ["1.00", "2.00"]}, {"name": ["a", "b"]}]

    def test_a_create_saved_again(self) -> None:
        def stamp(sender: Any, instance: Account, created: bool, **kwargs: Any) -> None:
            if created:
                instance.refresh_from_db()
                instance.balance = 2
                instance.save(update_fields=["balance"])

        with before_audit(stamp):
            Account.objects.create(name="a", balance=1)
        # The create's event holds the instance's values when the audit's
        # receiver runs: the nested save's balance, recorded by its own event too.
        (created,) = events(action="create")
        assert created.changes["balance"] == [None, "2.00"], created.changes
        assert updates() == [{"balance": ["1.00", "2.00"]}]


class SharedInstanceTests(SimpleTestCase):
    def test_saves_of_one_instance_in_many_threads(self) -> None:
        # The frames of an instance shared by threads: each save finds its own,
        # and none is left behind. (No database: save_base() is a stand-in.)
        account = Account(pk=1, name="a")
        snapshot.remember(account, {"id": 1, "name": "a"})
        found: list[Any] = []

        write = saves._wrap_write(lambda instance: None)  # a stand-in of _save_table()

        def save_base(instance: Account) -> None:
            saves.check(instance, False, None)
            write(instance)
            snapshot.refresh(instance, {"name": "a"}, False, connections["default"])
            found.append(saves.end(instance).kept)

        wrapped = saves._wrap(save_base)
        errors: list[BaseException] = []
        start = threading.Barrier(8)

        def work() -> None:
            start.wait()
            try:
                for _ in range(20_000):
                    wrapped(account)
            except BaseException as exc:
                errors.append(exc)

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            threads = [threading.Thread(target=work) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            sys.setswitchinterval(interval)
        assert errors == []
        assert len(found) == 160_000
        # Each save's old values were kept by a refresh during it.
        assert all(kept is not None for kept in found)
        assert not saves.nested(account)
        assert not saves._active
