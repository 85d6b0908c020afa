"""GeneratedFields: the database computes them, and Django may leave them unloaded
after a save (Django 5.2 keeps the old value; Django 6 gives the new one back where
an UPDATE can return it, and unloads it elsewhere)."""

from __future__ import annotations

import decimal

import django
from django.db import connection, transaction
from django.test import TransactionTestCase

from tests.audit_utils import audited, events, queries_with_log
from tests.auditapp.models import Priced

# Django 6 gives the generated value back where an UPDATE returns values.
GIVEN_BACK = django.VERSION >= (6,) and connection.features.can_return_rows_from_update


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

    def test_saves_cost_no_read_and_record_no_unknown_value(self) -> None:
        pk = Priced.objects.create(price=2, quantity=3).pk
        priced = Priced.objects.get()
        priced.quantity = 5
        with queries_with_log() as queries:
            priced.save()
            # Built in memory: Django does not set a generated field.
            Priced(pk=pk, price=decimal.Decimal(3), quantity=5).save()
        assert len(queries) == 4  # two UPDATEs and their events' INSERTs
        first: dict[str, list[object]] = {"quantity": [3, 5]}
        second: dict[str, list[object]] = {"price": [None, "3.00"], "quantity": [None, 5]}
        if GIVEN_BACK:
            first["total"] = ["6.00", "10.00"]
            second["total"] = [None, "15.00"]
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
        # Django 5.2 keeps the old value on the instance, which is not the row's.
        assert deleted.get("total") == (["8.00", None] if GIVEN_BACK else None)
        Priced.objects.create(price=2, quantity=5)
        Priced.objects.get().delete()  # loaded: the row's value
        assert events(action="delete")[1].changes["total"] == ["10.00", None]
