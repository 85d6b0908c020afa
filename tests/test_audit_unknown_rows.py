"""Saves through an instance that has no snapshot of its row: made by
``bulk_create()``, built in memory, or loaded while the audit did not see it.
The row is read first (one query), so that the update records what changed."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.db.models.signals import post_init
from django.test import TestCase, override_settings

from signalkit.models import AuditEvent
from signalkit.testing import mute_signals
from tests.audit_utils import audited, events, queries_with_log
from tests.auditapp.models import Account, Cupboard, Dated, Seat, Shelf, Token, VipAccount


@audited(MODELS={"auditapp.Account": {"include": ["name", "balance"]}, "auditapp.Token": {}})
class UnknownRowSaveTests(TestCase):
    def test_a_bulk_created_instance_records_what_changed(self) -> None:
        [account] = Account.objects.bulk_create([Account(name="a", balance=1)])
        account.name = "b"
        with queries_with_log() as queries:
            account.save()
        assert len(queries) == 3  # the row's SELECT, the UPDATE, the event's INSERT
        assert [event.changes for event in events(action="update")] == [{"name": ["a", "b"]}]
        account.name = "c"  # the snapshot is known now
        with queries_with_log() as queries:
            account.save()
        assert len(queries) == 2
        assert events(action="update")[-1].changes == {"name": ["b", "c"]}

    def test_an_instance_built_in_memory_records_what_changed(self) -> None:
        pk = Account.objects.create(name="a", balance=1).pk
        Account(pk=pk, name="a", balance=2).save()
        assert [event.changes for event in events(action="update")] == [
            {"balance": ["1.00", "2.00"]}
        ]

    def test_an_unchanged_instance_built_in_memory_records_nothing(self) -> None:
        pk = Account.objects.create(name="a", balance=1).pk
        Account(pk=pk, name="a", balance=1).save()
        assert events(action="update") == []

    def test_update_fields_record_the_old_values_the_row_holds(self) -> None:
        [account] = Account.objects.bulk_create([Account(name="a", balance=1)])
        account.name = "b"
        account.balance = 2
        account.save(update_fields=["name"])
        with queries_with_log() as queries:
            account.save()  # (the field left out kept what the row held)
        assert len(queries) == 2
        assert [event.changes for event in events(action="update")] == [
            {"name": ["a", "b"]},
            {"balance": ["1.00", "2.00"]},
        ]

    def test_an_instance_loaded_while_the_snapshot_receiver_was_muted(self) -> None:
        pk = Account.objects.create(name="a", balance=1).pk
        with mute_signals(post_init):
            account = Account.objects.get(pk=pk)
        account.name = "b"
        account.save()
        assert events(action="update")[0].changes == {"name": ["a", "b"]}

    def test_a_proxy_reads_the_row_of_its_model(self) -> None:
        [vip] = VipAccount.objects.bulk_create([VipAccount(name="a", balance=1)])
        vip.name = "b"
        vip.save()
        [update] = events(action="update")
        assert (update.model_label, update.changes) == ("auditapp.Account", {"name": ["a", "b"]})

    def test_a_save_of_a_row_that_does_not_exist_records_a_create(self) -> None:
        # Django tries an UPDATE, which finds no row, then inserts it.
        with queries_with_log() as queries:
            Account(pk=4242, name="new").save()
        assert len(queries) == 4  # SELECT, UPDATE, INSERT, and the event's INSERT
        assert [(event.action, event.changes) for event in events()] == [
            ("create", {"name": [None, "new"], "balance": [None, "0.00"]})
        ]

    def test_a_save_that_inserts_reads_nothing(self) -> None:
        with queries_with_log() as queries:
            Account.objects.create(pk=4242, name="a")  # force_insert
            Account(pk=4243, name="b").save(force_insert=True)
            Token(label="t").save()  # a new instance whose key has a default
        # An INSERT each, and the events' (written together at commit).
        assert [query["sql"].split()[0] for query in queries] == ["INSERT"] * 4
        assert [event.action for event in events()] == ["create"] * 3

    def test_a_raw_save_reads_nothing(self) -> None:
        [account] = Account.objects.bulk_create([Account(name="a")])
        pk = account.pk
        with queries_with_log() as queries:
            Account(pk=pk, name="b").save_base(raw=True)  # as loaddata saves
        assert len(queries) == 1
        assert events(action="update") == []


@audited(MODELS={"auditapp.Dated": {}, "auditapp.Account": {"include": ["name"]}})
class BulkCreatedWithKeyTests(TestCase):
    """An instance given to ``bulk_create()`` with its key set was snapshotted when
    it was built: its snapshot lacks what the insert computed."""

    def test_a_save_records_the_old_values_the_insert_computed(self) -> None:
        [dated] = Dated.objects.bulk_create([Dated(pk=7, name="a")])
        inserted = dated.changed
        dated.name = "b"
        with queries_with_log() as queries:
            dated.save()
        assert len(queries) == 3  # the row's SELECT, the UPDATE, the event's INSERT
        [update] = events(action="update")
        assert set(update.changes) == {"name", "changed"}  # (auto_now_add and db_default kept)
        assert update.changes["name"] == ["a", "b"]
        old, new = update.changes["changed"]
        assert datetime.datetime.fromisoformat(old) == inserted
        assert datetime.datetime.fromisoformat(new) == dated.changed
        dated.name = "c"  # the snapshot is known now
        with queries_with_log() as queries:
            dated.save()
        assert len(queries) == 2

    def test_a_delete_records_the_values_the_insert_computed(self) -> None:
        [dated] = Dated.objects.bulk_create([Dated(pk=7, name="a")])
        dated.delete()
        [delete] = events(action="delete")
        row = {name: old for name, (old, new) in delete.changes.items()}
        assert datetime.datetime.fromisoformat(row["created"]) == dated.created
        assert datetime.datetime.fromisoformat(row["changed"]) == dated.changed
        assert (row["name"], row["rank"]) == ("a", 5)

    def test_a_row_the_insert_left_in_place_gives_the_old_values(self) -> None:
        pk = Account.objects.create(name="held").pk
        [account] = Account.objects.bulk_create([Account(pk=pk, name="x")], ignore_conflicts=True)
        account.name = "y"
        account.save()
        assert events(action="update")[0].changes == {"name": ["held", "y"]}

    async def test_abulk_create_too(self) -> None:
        [dated] = await Dated.objects.abulk_create([Dated(pk=7, name="a")])
        dated.name = "b"
        await dated.asave(update_fields=["name", "created"])
        update = await AuditEvent.objects.aget(action="update")
        assert update.changes == {"name": ["a", "b"]}

    def test_bulk_create_is_left_as_it_is_while_no_model_is_audited(self) -> None:
        assert hasattr(QuerySet.bulk_create, "__wrapped__")
        with override_settings(SIGNALKIT={"AUDIT": {"MODELS": []}}):
            assert not hasattr(QuerySet.bulk_create, "__wrapped__")


@audited(MODELS={"auditapp.Account": {"include": ["name"]}})
class UnknownRowOtherDatabaseTests(TestCase):
    databases = {"default", "other"}

    def test_the_row_is_read_on_the_database_the_save_writes(self) -> None:
        [account] = Account.objects.using("other").bulk_create([Account(name="a")])
        Account.objects.bulk_create([Account(pk=account.pk, name="default's")])
        account.name = "b"
        with queries_with_log("other") as queries, queries_with_log() as on_default:
            account.save()
        assert (len(queries), len(on_default)) == (3, 0)
        [update] = AuditEvent.objects.using("other").filter(action="update")
        assert update.changes == {"name": ["a", "b"]}


@audited(MODELS=["auditapp.Cupboard", "auditapp.Seat"])
class UnknownRowKeysTests(TestCase):
    def test_a_multi_table_child_reads_its_rows(self) -> None:
        pk = Cupboard.objects.create(name="a").pk
        Cupboard(pk=pk, name="b").save()
        [update] = events(action="update")
        assert (update.model_label, update.changes) == ("auditapp.Cupboard", {"name": ["a", "b"]})
        assert Shelf.objects.get(pk=pk).name == "b"

    def test_a_composite_key_reads_its_row(self) -> None:
        Seat.objects.create(hall="h", number=1, holder="a")
        Seat(hall="h", number=1, holder="b").save()
        assert events(action="update")[0].changes == {"holder": ["a", "b"]}
