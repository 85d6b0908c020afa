"""refresh_from_db() refreshes the old values of the next update."""

from __future__ import annotations

import decimal
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.db import connections, transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_save
from django.test import TestCase

from signalkit.audit import hooks
from tests.audit_utils import audited, events, queries_with_log, run_sql
from tests.auditapp.models import Account, VipAccount


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

    def test_the_wrapper_follows_the_settings(self) -> None:
        assert getattr(Account.refresh_from_db, "__signalkit_refresh__", False)
        with audited(MODELS=["auditapp.Note"]):
            assert not getattr(Account.refresh_from_db, "__signalkit_refresh__", False)
            assert "refresh_from_db" not in Account.__dict__
        assert getattr(Account.refresh_from_db, "__signalkit_refresh__", False)
        assert "refresh_from_db" not in VipAccount.__dict__  # inherits Account's


def strip_name(self: Account, *args: Any, **kwargs: Any) -> None:
    """A model's own refresh_from_db() that changes a value after Django's."""
    Model.refresh_from_db(self, *args, **kwargs)
    self.name = self.name.strip()


@audited()
class RefreshEdgeTests(TestCase):
    def test_a_post_save_receiver_that_refreshes_keeps_the_event(self) -> None:
        # Connected before the audit's receivers (audited() reconnects them).
        account = Account.objects.create(name="a", balance=1)

        def reload(sender: Any, instance: Account, created: bool, **kwargs: Any) -> None:
            if not created:
                instance.refresh_from_db()

        post_save.connect(reload, sender=Account, dispatch_uid="reload")
        try:
            with audited():
                account.name = "b"
                account.save()
        finally:
            post_save.disconnect(sender=Account, dispatch_uid="reload")
        assert [e.changes for e in events(action="update")] == [{"name": ["a", "b"]}]

    def test_a_refresh_after_a_failed_save_counts(self) -> None:
        # An optimistic-locking retry: the save fails, the instance is refreshed
        # (another process changed the row), and the save is tried again.
        account = Account.objects.create(name="a", balance=1)

        def conflict(sender: Any, instance: Account, **kwargs: Any) -> None:
            raise RuntimeError("modified meanwhile")

        pre_save.connect(conflict, sender=Account, dispatch_uid="conflict")
        try:
            account.name = "b"
            with pytest.raises(RuntimeError):
                account.save()
        finally:
            pre_save.disconnect(sender=Account, dispatch_uid="conflict")
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


def is_wrapped(model: type[Model]) -> bool:
    return bool(getattr(model.refresh_from_db, "__signalkit_refresh__", False))
