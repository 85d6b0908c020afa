"""Rows read because the instance's snapshot is not theirs: an instance built in
memory and deleted, one whose primary key was given another row's, and a
multi-table parent that Django builds from a child being deleted."""

from __future__ import annotations

import contextlib
import pickle

from django.db import connection, transaction
from django.test import TestCase

from signalkit.models import AuditEvent
from tests.audit_utils import audited, events, queries_with_log
from tests.auditapp.models import Account, Cupboard, Dresser, Shelf, Ticket


@audited(MODELS={"auditapp.Account": {"include": ["name", "balance"]}})
class BuiltInMemoryTests(TestCase):
    def test_a_delete_records_what_the_row_held(self) -> None:
        pk = Account.objects.create(name="Bob", balance=7).pk
        Account(pk=pk).delete()  # its values in memory are the defaults
        assert events(action="delete")[0].changes == {
            "name": ["Bob", None],
            "balance": ["7.00", None],
        }

    def test_a_delete_of_a_row_that_is_gone_records_no_value(self) -> None:
        Account(pk=4242, name="ghost").delete()
        assert events(action="delete")[0].changes == {
            "name": [None, None],
            "balance": [None, None],
        }

    def test_a_loaded_instance_is_not_read_again(self) -> None:
        account = Account.objects.create(name="a")
        account = Account.objects.get(pk=account.pk)
        with queries_with_log() as queries:
            account.delete()
        assert not [q for q in queries if q["sql"].endswith("LIMIT 1")], queries


@audited(MODELS={"auditapp.Account": {"include": ["name"]}})
class ReassignedKeyTests(TestCase):
    def test_a_save_over_another_row_records_that_rows_change(self) -> None:
        one = Account.objects.create(name="x")
        other = Account.objects.create(name="y")
        one.pk = other.pk
        one.save()
        assert Account.objects.get(pk=other.pk).name == "x"
        [update] = events(action="update")
        assert (update.object_pk, update.changes) == (str(other.pk), {"name": ["y", "x"]})
        one.name = "z"  # the snapshot follows the row now
        one.save()
        assert events(action="update")[-1].changes == {"name": ["x", "z"]}

    def test_a_delete_of_another_row_records_that_rows_values(self) -> None:
        one = Account.objects.create(name="x")
        other = Account.objects.create(name="y")
        one.pk = other.pk
        one.delete()
        [delete] = events(action="delete")
        assert (delete.object_pk, delete.changes) == (str(other.pk), {"name": ["y", None]})

    def test_a_pickled_instance_keeps_its_row(self) -> None:
        one = Account.objects.get(pk=Account.objects.create(name="x").pk)
        other = Account.objects.create(name="y")
        copy = pickle.loads(pickle.dumps(one))  # (from a cache, say)
        copy.pk = other.pk
        copy.name = "y"  # what that row holds: no change
        copy.save()
        assert events(action="update") == []


class Refused(Exception):
    pass


@audited(MODELS={"auditapp.Account": {"include": ["name"]}})
class ReadInTransactionTests(TestCase):
    def test_a_row_read_in_a_transaction_that_rolls_back_is_forgotten(self) -> None:
        one = Account.objects.create(name="x")
        two = Account.objects.create(name="y")
        with contextlib.suppress(Refused), transaction.atomic():
            two.name = "q"
            two.save()
            one.pk = two.pk  # the audit reads row two: "q", this transaction's
            one.name = "q"
            one.save()
            raise Refused
        one.save()  # reads row two again, then commits "y" -> "q"
        assert Account.objects.get(pk=two.pk).name == "q"
        assert events(action="update")[-1].changes == {"name": ["y", "q"]}


@audited(MODELS={"auditapp.Cupboard": {}})
class ChildKeyTests(TestCase):
    """Django saves a multi-table child into the row its root parent's key names,
    and gives the child's link that key."""

    def test_a_link_given_another_rows_key_saves_its_own_row(self) -> None:
        one = Cupboard.objects.create(name="x")
        two = Cupboard.objects.create(name="y")
        one.pk = two.pk  # the link only: Django puts it back
        one.save()
        assert events(action="update") == []

    def test_a_parent_key_given_another_rows_saves_that_row(self) -> None:
        one = Cupboard.objects.create(name="x")
        two = Cupboard.objects.create(name="y")
        one.id = two.id  # Django points the link at row two
        one.name = "z"
        one.save()
        [update] = events(action="update")
        assert (update.object_pk, update.changes) == (str(two.pk), {"name": ["y", "z"]})


@audited(MODELS={"auditapp.Account": {"include": ["name"]}})
class KeylessSaveTests(TestCase):
    def test_a_copy_saved_with_its_key_cleared_reads_nothing(self) -> None:
        account = Account.objects.get(pk=Account.objects.create(name="a").pk)
        account.pk = None  # the copy idiom, without _state.adding
        with queries_with_log() as queries:
            account.save()
        assert [q["sql"].split()[0] for q in queries] == ["INSERT", "INSERT"]
        account.delete()
        with queries_with_log() as queries:
            account.save()  # again, after a delete
        assert [q["sql"].split()[0] for q in queries] == ["INSERT", "INSERT"]
        assert [e.action for e in events()] == ["create", "create", "delete", "create"]

    def test_a_refreshed_instance_built_in_memory_follows_a_new_key(self) -> None:
        one = Account.objects.create(name="one")
        two = Account.objects.create(name="two")
        built = Account(pk=one.pk)
        built.refresh_from_db()
        built.pk = two.pk
        built.name = "one"
        built.save()
        assert [e.changes for e in events(action="update")] == [{"name": ["two", "one"]}]


@audited(MODELS=["auditapp.Shelf", "auditapp.Cupboard"])
class ChildDeleteTests(TestCase):
    def test_the_parents_event_records_the_stored_values(self) -> None:
        cupboard = Cupboard.objects.create(name="stored")
        cupboard.name = "never saved"
        cupboard.delete()
        assert [(e.model_label, e.changes) for e in events(action="delete")] == [
            ("auditapp.Cupboard", {"name": ["stored", None]}),
            ("auditapp.Shelf", {"name": ["stored", None]}),
        ]

    def test_the_childs_snapshot_spares_a_read_of_the_parent(self) -> None:
        cupboard = Cupboard.objects.get(pk=Cupboard.objects.create(name="a").pk)
        with queries_with_log() as queries:
            cupboard.delete()
        assert not [q for q in queries if q["sql"].endswith("LIMIT 1")], queries
        assert [e.changes for e in events(action="delete")] == [{"name": ["a", None]}] * 2

    def test_a_parent_deleted_on_its_own_is_not_read(self) -> None:
        shelf = Shelf.objects.get(pk=Shelf.objects.create(name="s").pk)
        with queries_with_log() as queries:
            shelf.delete()
        # (Django's collector looks for the shelf's Cupboard; a read is of one row.)
        assert not [q for q in queries if q["sql"].endswith("LIMIT 1")], queries
        assert events(action="delete")[0].changes == {"name": ["s", None]}

    def test_a_child_whose_link_alone_was_cleared_updates_its_rows(self) -> None:
        # Django takes the link from the parent's key, still set: an update.
        cupboard = Cupboard.objects.get(pk=Cupboard.objects.create(name="a").pk)
        cupboard.shelf_ptr_id = None  # type: ignore[assignment]
        cupboard.name = "b"
        cupboard.save()
        assert Cupboard.objects.get().name == "b"
        [update] = [e for e in events(action="update") if e.model_label == "auditapp.Cupboard"]
        assert update.changes == {"name": ["a", "b"]}


@audited(MODELS=["auditapp.Shelf", "auditapp.Drawer", "auditapp.Dresser"])
class SecondParentDeleteTests(TestCase):
    """A child of two parents: Django builds the second parent from the child
    too, keyed by the child's link to it, not by the child's primary key."""

    def test_the_second_parents_event_records_the_stored_values(self) -> None:
        Shelf.objects.create(name="keys apart")  # the dresser's two keys differ
        dresser = Dresser.objects.create(name="stored", size="stored")
        link = dresser.drawer_ptr_id
        assert link != dresser.pk
        dresser.size = "never saved"
        dresser.name = "never saved"
        dresser.delete()
        assert sorted((e.model_label, e.changes) for e in events(action="delete")) == [
            ("auditapp.Drawer", {"size": ["stored", None]}),
            (
                "auditapp.Dresser",
                {"name": ["stored", None], "size": ["stored", None], "drawer_ptr": [link, None]},
            ),
            ("auditapp.Shelf", {"name": ["stored", None]}),
        ]

    def test_the_childs_snapshot_spares_a_read_of_either_parent(self) -> None:
        Shelf.objects.create(name="keys apart")
        dresser = Dresser.objects.get(pk=Dresser.objects.create(name="a", size="s").pk)
        with queries_with_log() as queries:
            dresser.delete()
        assert not [q for q in queries if q["sql"].endswith("LIMIT 1")], queries
        assert len(events(action="delete")) == 3


@audited(MODELS=["auditapp.Ticket"])
class LockedReadTests(TestCase):
    def test_a_role_that_may_delete_but_not_update_deletes(self) -> None:
        # PostgreSQL locks rows (SELECT ... FOR UPDATE) only for a role that may
        # update the table: the read before the delete falls back to no lock.
        if connection.vendor != "postgresql":
            self.skipTest("PostgreSQL privileges")
        Ticket.objects.create(code="t1", title="x")
        with connection.cursor() as cursor:
            cursor.execute("CREATE ROLE signalkit_test_no_update")
            cursor.execute(
                "GRANT SELECT, INSERT, DELETE ON auditapp_ticket TO signalkit_test_no_update"
            )
            cursor.execute(
                f"GRANT SELECT, INSERT ON {AuditEvent._meta.db_table} TO signalkit_test_no_update"
            )
            cursor.execute(
                "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO signalkit_test_no_update"
            )
            cursor.execute("SET ROLE signalkit_test_no_update")
        try:
            Ticket(code="t1", title="in memory").delete()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET ROLE")
        assert not Ticket.objects.filter(code="t1").exists()
        assert events(action="delete")[0].changes["title"] == ["x", None]
