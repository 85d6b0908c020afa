"""GeneratedFields: the database computes them, and Django may leave them unloaded
after a save (Django 5.2 keeps the old value; Django 6 gives the new one back where
an UPDATE can return it, and unloads it elsewhere)."""

from __future__ import annotations

import decimal
from typing import Any

import django
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test import TransactionTestCase

import signalkit.audit as audit
from signalkit.audit import receivers
from tests.audit_utils import audited, events, queries_with_log
from tests.auditapp.models import Priced

# Django 6 gives the generated value back where an UPDATE returns values.
GIVEN_BACK = django.VERSION >= (6,) and connection.features.can_return_rows_from_update
# Django 5.2 leaves an update's generated values stale: recorded on create only.
TRACKED = django.VERSION >= (6,)


def refresh_total(sender: type[Priced], instance: Priced, created: bool, **kwargs: Any) -> None:
    if not created:
        instance.refresh_from_db(fields=["total"])


@audited(MODELS=["auditapp.Priced"])
class GeneratedFieldTests(TransactionTestCase):
    def test_a_create_records_the_generated_value(self) -> None:
        Priced.objects.create(price=decimal.Decimal("2.50"), quantity=3)
        assert events(action="create")[0].changes == {
            "price": [None, "2.50"],
            "quantity": [None, 3],
            "total": [None, "7.50"],
        }

    def test_an_update_records_the_generated_change_where_django_gives_it_back(self) -> None:
        Priced.objects.create(price=2, quantity=3)
        priced = Priced.objects.get()
        priced.quantity = 4
        with transaction.atomic():
            priced.save()
        expected: dict[str, list[object]] = {"quantity": [3, 4]}
        if GIVEN_BACK:
            expected["total"] = ["6.00", "8.00"]
        assert [e.changes for e in events(action="update")] == [expected]

    def test_saves_read_only_without_a_snapshot_and_record_no_unknown_value(self) -> None:
        pk = Priced.objects.create(price=2, quantity=3).pk
        priced = Priced.objects.get()
        priced.quantity = 5
        with queries_with_log() as queries:
            priced.save()
        assert len(queries) == 2  # the UPDATE and its event's INSERT
        with queries_with_log() as queries:
            # Built in memory: Django does not set a generated field.
            Priced(pk=pk, price=decimal.Decimal(3), quantity=5).save()
        assert len(queries) == 3  # its row's SELECT first
        first: dict[str, list[object]] = {"quantity": [3, 5]}
        second: dict[str, list[object]] = {"price": ["2.00", "3.00"]}
        if GIVEN_BACK:
            first["total"] = ["6.00", "10.00"]
            second["total"] = ["10.00", "15.00"]
        assert [e.changes for e in events(action="update")] == [first, second]

    def test_update_fields_record_the_generated_change_once(self) -> None:
        Priced.objects.create(price=2, quantity=3)
        priced = Priced.objects.get()
        priced.quantity = 4
        priced.save(update_fields=["quantity"])
        priced.save()  # nothing changed
        expected: dict[str, list[object]] = {"quantity": [3, 4]}
        if GIVEN_BACK:
            expected["total"] = ["6.00", "8.00"]
        assert [e.changes for e in events(action="update")] == [expected]

    def test_a_delete_records_the_generated_value_the_row_holds_or_none(self) -> None:
        Priced.objects.create(price=2, quantity=3)
        priced = Priced.objects.get()
        priced.quantity = 4
        priced.save()
        priced.delete()
        deleted = events(action="delete")[0].changes
        # Django 5.2 keeps the old value on the instance, which is not the row's;
        # MariaDB unloads it.
        assert deleted.get("total") == (["8.00", None] if GIVEN_BACK else None)
        Priced.objects.create(price=2, quantity=5)
        Priced.objects.get().delete()  # loaded: the row's value (Django 6)
        expected = ["10.00", None] if TRACKED else None
        assert events(action="delete")[1].changes.get("total") == expected

    def test_an_instance_loaded_with_deferred_fields(self) -> None:
        Priced.objects.create(price=2, quantity=3)
        priced = Priced.objects.defer("price").get()
        assert priced.price == 2  # loaded on access
        priced.quantity = 4
        priced.save()
        priced.save()  # nothing changed
        priced.quantity = 5
        with queries_with_log() as queries:
            priced.save()
        assert len(queries) == 2  # the UPDATE and the event's INSERT: nothing read
        changes: list[dict[str, list[object]]] = [{"quantity": [3, 4]}, {"quantity": [4, 5]}]
        if GIVEN_BACK:
            changes[0]["total"] = ["6.00", "8.00"]
            changes[1]["total"] = ["8.00", "10.00"]
        assert [e.changes for e in events(action="update")] == changes

    def test_a_refresh_during_the_save_gives_the_snapshot_the_rows_value(self) -> None:
        post_save.connect(refresh_total, sender=Priced, dispatch_uid="refresh_total")
        self.addCleanup(post_save.disconnect, sender=Priced, dispatch_uid="refresh_total")
        receivers.connect()  # the audit's receivers after refresh_total
        Priced.objects.create(price=2, quantity=3)
        priced = Priced.objects.get()
        priced.quantity = 4
        priced.save()
        assert priced.total == 8
        priced.delete()
        expected = ["8.00", None] if TRACKED else None
        assert events(action="delete")[0].changes.get("total") == expected

    def test_a_batch_merges_no_stale_generated_value_into_its_create(self) -> None:
        with audit.batch():
            priced = Priced.objects.create(price=2, quantity=3)
            priced.quantity = 4
            priced.save()
        [created] = [e.changes for e in events()]
        assert created["quantity"] == [None, 4]
        assert created.get("total") == ([None, "8.00"] if GIVEN_BACK else None)

    def test_an_instance_loaded_without_a_snapshot(self) -> None:
        Priced.objects.create(price=2, quantity=3)
        receivers.disconnect()
        priced = Priced.objects.get()  # loaded while nothing is audited
        receivers.connect()
        priced.quantity = 4
        priced.save(update_fields=["quantity"])  # reads its row first
        priced.delete()
        update, deleted = (e.changes for e in events()[1:])
        assert update["quantity"] == [3, 4]
        assert update.get("total") == (["6.00", "8.00"] if GIVEN_BACK else None)
        assert deleted.get("total") == (["8.00", None] if GIVEN_BACK else None)


@audited(MODELS={"auditapp.Priced": {"exclude": ["price"]}})
class ExcludedSourceTests(TransactionTestCase):
    def test_a_change_left_out_of_the_log_leaves_no_stale_generated_value(self) -> None:
        Priced.objects.create(price=2, quantity=3)
        priced = Priced.objects.get()
        priced.price = decimal.Decimal(3)  # excluded: no event
        priced.save()
        priced.delete()
        deleted = events(action="delete")[0].changes
        assert deleted.get("total") == (["9.00", None] if GIVEN_BACK else None)
