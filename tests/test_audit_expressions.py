"""Values saved as expressions are recorded as the database stored them (in a
transaction), or as the expression (in autocommit); never as a guess."""

from __future__ import annotations

import contextlib
import decimal
from typing import TYPE_CHECKING, Any

import django
import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.test import TestCase, TransactionTestCase

from signalkit.audit import snapshot
from tests.audit_utils import audited, events, queries_with_log, run_sql
from tests.auditapp.models import Account

if TYPE_CHECKING:
    from collections.abc import Callable

# Django 6 gives the stored values back (RETURNING) where an UPDATE can return
# them; elsewhere (MariaDB, MySQL) it unloads the field, and its value is read back.
UNLOADS = django.VERSION >= (6,) and not connection.features.can_return_rows_from_update
READS_BACK = django.VERSION < (6,) or UNLOADS


def before_reading_back(action: Callable[[], Any]) -> Any:
    """An execute_wrapper running ``action`` in place of the audit's read of the
    saved row (``action`` returns the SQL to run instead, or ``None``)."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().startswith("SELECT") and "auditapp_account" in sql and "LIMIT 1" in sql:
            replaced = action()
            if replaced is not None:
                return execute(replaced, (), many, context)
        return execute(sql, params, many, context)

    return wrapper


# Fails on every database (1/0 does not on SQLite): in PostgreSQL it aborts the
# transaction, unless a savepoint holds it.
FAILING = "SELECT * FROM signalkit_no_such_table"


@audited()
class ExpressionTests(TestCase):
    """Values saved as expressions are recorded as the database stored them."""

    def test_an_f_expression_is_recorded_as_its_result(self) -> None:
        account = Account.objects.create(name="a", balance=10)
        account.balance = F("balance") + decimal.Decimal("5.5")
        account.save()
        account.refresh_from_db()  # (Django 5.2 keeps the expression until then)
        account.name = "b"
        account.save()
        account.save()  # nothing changed
        assert [e.changes for e in events(action="update")] == [
            {"balance": ["10.00", "15.50"]},
            {"name": ["a", "b"]},
        ]

    def test_an_expression_saved_twice_is_recorded_twice(self) -> None:
        # Django 5.2 keeps the expression on the instance, so a second save runs
        # it again; Django 6 keeps the stored value, so it does not.
        account = Account.objects.create(name="a", balance=10)
        account.balance = F("balance") + 1
        account.save()
        account.save()
        account.refresh_from_db()
        changes = [e.changes["balance"] for e in events(action="update")]
        assert changes[0] == ["10.00", "11.00"]
        assert changes[-1][1] == str(account.balance)
        assert len(changes) == (2 if django.VERSION < (6,) else 1)

    def test_an_expression_that_changes_nothing_records_nothing(self) -> None:
        account = Account.objects.create(name="a", balance=10)
        account.balance = F("balance") + 0
        account.save()
        assert events(action="update") == []

    def test_update_fields_and_transactions(self) -> None:
        account = Account.objects.create(name="a", balance=10)
        with transaction.atomic():
            account.balance = F("balance") * 2
            account.name = F("name")  # assigned, but not saved
            account.save(update_fields=["balance"])
        [update] = events(action="update")
        assert update.changes == {"balance": ["10.00", "20.00"]}
        account.name = "b"
        account.save(update_fields=["name"])
        assert events(action="update")[-1].changes == {"name": ["a", "b"]}

    def test_a_create_with_an_expression(self) -> None:
        account = Account.objects.create(name=Concat(Value("a"), Value("b")), balance=1)
        assert events(action="create")[0].changes["name"] == [None, "ab"]
        account.refresh_from_db()
        account.save()
        assert events(action="update") == []

    def test_values_without_expressions_cost_no_query(self) -> None:
        account = Account.objects.create(name="a")
        account.name = "b"
        with queries_with_log() as queries:
            account.save()
        assert len(queries) == 2  # the UPDATE and the event's INSERT

    def test_an_expression_in_an_unsaved_field_costs_no_query(self) -> None:
        account = Account.objects.create(name="a", balance=10)
        account.balance = F("balance") + 1
        account.save(update_fields=["balance"])
        account.name = "b"
        with queries_with_log() as queries:
            account.save(update_fields=["name"])
        assert len(queries) == 2  # the UPDATE and the event's INSERT

    @pytest.mark.skipif(not READS_BACK, reason="Django 6 gives the stored value back")
    def test_a_row_gone_before_the_read_keeps_the_expression(self) -> None:
        account = Account.objects.create(name="a", balance=10)
        expression = F("balance") + 1
        account.balance = expression
        gone = f"DELETE FROM auditapp_account WHERE id = {account.pk}"
        with connection.execute_wrapper(before_reading_back(lambda: run_sql(gone))):
            account.save()
        [update] = events(action="update")
        # The expression's text (Django 5.2); an unloaded field has none.
        assert update.changes == {"balance": ["10.00", None if UNLOADS else str(expression)]}
        base = snapshot.base(account, connections["default"])
        assert base is not None
        assert "balance" not in base  # never the expression object

    @pytest.mark.skipif(not READS_BACK, reason="Django 6 gives the stored value back")
    def test_a_failed_read_with_on_error_log_keeps_the_change_and_its_transaction(self) -> None:
        account = Account.objects.create(name="a", balance=10)
        account.balance = F("balance") + 1
        with (
            audited(ON_ERROR="log"),
            self.assertLogs("signalkit.audit", "ERROR"),
            connection.execute_wrapper(before_reading_back(lambda: FAILING)),
        ):
            account.save()
        assert Account.objects.get().balance == 11  # PostgreSQL did not abort the transaction
        text = None if UNLOADS else "F(balance) + Value(1)"
        assert [e.changes for e in events(action="update")] == [{"balance": ["10.00", text]}]

    @pytest.mark.skipif(not READS_BACK, reason="Django 6 gives the stored value back")
    def test_a_failed_read_with_on_error_raise_fails_the_change(self) -> None:
        account = Account.objects.create(name="a", balance=10)
        account.balance = F("balance") + 1
        with (
            pytest.raises(DatabaseError),
            transaction.atomic(),
            connection.execute_wrapper(before_reading_back(lambda: FAILING)),
        ):
            account.save()
        assert Account.objects.get().balance == 10
        assert events(action="update") == []

    @pytest.mark.skipif(not READS_BACK, reason="Django 6 gives the stored value back")
    def test_a_failed_read_caught_in_the_block_still_rolls_the_change_back(self) -> None:
        account = Account.objects.create(name="a", balance=10)
        account.balance = F("balance") + 1
        with (
            transaction.atomic(),
            connection.execute_wrapper(before_reading_back(lambda: FAILING)),
            pytest.raises(DatabaseError),
        ):
            account.save()
        # The block rolled back (to its savepoint): the change has no event, so it
        # was not kept either.
        assert Account.objects.get().balance == 10
        assert events(action="update") == []

    def test_a_delete_after_a_failed_read_records_the_value_as_unknown(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        loaded = Account.objects.only("name").get(pk=account.pk)
        loaded.balance = decimal.Decimal(5)  # assigned, never saved
        with (
            audited(ON_ERROR="log"),
            self.assertLogs("signalkit.audit", "ERROR"),
            connection.execute_wrapper(before_reading_back(lambda: FAILING)),
        ):
            loaded.delete()
        (deleted,) = events(action="delete")
        assert deleted.changes["balance"] == [None, None]
        assert deleted.changes["name"] == ["a", None]

    def test_a_delete_of_an_instance_holding_an_unsaved_expression(self) -> None:
        pk = Account.objects.create(name="a", balance=10).pk
        # No snapshot: the row is read before it is deleted.
        Account(pk=pk, name="a", balance=F("balance") + 1).delete()
        (deleted,) = events(action="delete")
        assert deleted.changes["balance"] == ["10.00", None]
        assert deleted.changes["name"] == ["a", None]
        pk = Account.objects.create(name="c").pk
        with audited(MODELS=["auditapp.Note"]):
            account = Account.objects.get(pk=pk)  # no snapshot
        account.name = Concat(F("name"), Value("x"))  # assigned, never saved
        account.delete()
        assert events(action="delete")[-1].changes["name"] == ["c", None]

    def test_a_failed_read_of_deferred_old_values_with_on_error_log(self) -> None:
        Account.objects.create(name="a", balance=10)
        account = Account.objects.only("name").get()
        account.balance = decimal.Decimal(7)
        with (
            audited(ON_ERROR="log"),
            self.assertLogs("signalkit.audit", "ERROR"),
            connection.execute_wrapper(before_reading_back(lambda: FAILING)),
        ):
            account.save()
        assert Account.objects.get().balance == 7
        assert events(action="update")[0].changes["balance"] == [None, "7.00"]


@audited()
@pytest.mark.skipif(not READS_BACK, reason="Django 6 gives the stored value back")
class ManualTransactionTests(TransactionTestCase):
    def tearDown(self) -> None:
        if not transaction.get_autocommit():
            transaction.rollback()
            transaction.set_autocommit(True)

    def test_a_failed_read_keeps_the_change_from_committing(self) -> None:
        account = Account.objects.create(name="a", balance=10)
        transaction.set_autocommit(False)
        account.balance = F("balance") + 1
        with (
            connection.execute_wrapper(before_reading_back(lambda: FAILING)),
            pytest.raises(DatabaseError),
        ):
            account.save()
        with contextlib.suppress(DatabaseError):
            transaction.commit()
        transaction.set_autocommit(True)
        assert Account.objects.get().balance == 10
        assert events(action="update") == []


@audited()
@pytest.mark.skipif(not READS_BACK, reason="Django 6 gives the stored value back")
class AutocommitExpressionTests(TransactionTestCase):
    """In autocommit another change can land between the save and a read: the
    event keeps the expression (an unloaded field has none: its new value is
    unknown), and the old value is read before the next update."""

    def test_the_event_keeps_the_expression(self) -> None:
        account = Account.objects.create(name="a", balance=10)
        account.balance = F("balance") + 1
        account.save()
        run_sql("UPDATE auditapp_account SET balance = balance + 100")  # another process
        account.refresh_from_db()
        account.name = "b"
        account.save()
        assert [e.changes for e in events(action="update")] == [
            {"balance": ["10.00", None if UNLOADS else "F(balance) + Value(1)"]},
            {"name": ["a", "b"]},  # the other process's +100 is not this save's
        ]
