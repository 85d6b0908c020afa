"""refresh_from_db() refreshes the old values of the next update."""

from __future__ import annotations

import decimal

from asgiref.sync import async_to_sync
from django.db import transaction
from django.test import TestCase

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
