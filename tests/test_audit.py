from __future__ import annotations

import datetime
import decimal
import logging
import uuid
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.db.utils import DatabaseError
from django.dispatch import Signal
from django.test import TestCase, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.functional import SimpleLazyObject

import signalkit
import signalkit.audit as audit
from signalkit.models import AuditEvent
from tests.audit_utils import audit_inserts, audited, events
from tests.auditapp.models import Account, Label, Owner, Tag, Ticket, Token, VipAccount

if TYPE_CHECKING:
    from django.db.models import Model


class RolledBack(Exception):
    pass


class ReplicaRouter:
    """Accounts are read from "other" (a replica) and written to "default"."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return "other" if model is Account else None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return "default" if model is Account else None


@audited()
class RecordTests(TestCase):
    databases = {"default", "other"}

    def test_custom_event_about_an_object(self) -> None:
        account = Account.objects.create(name="a")
        event = audit.record("exported", account, changes={"rows": 3}, fmt="csv")
        assert event.pk is not None
        assert (event.action, event.model_label, event.object_pk) == (
            "exported",
            "auditapp.Account",
            str(account.pk),
        )
        assert event.changes == {"rows": 3}
        assert event.extra == {"fmt": "csv"}

    def test_custom_event_without_object_carries_the_context(self) -> None:
        with audit.context(actor="cron", job="nightly", correlation_id="abc"):
            audit.record("backup")
        [event] = events(action="backup")
        assert (event.actor_id, event.actor_repr, event.correlation_id) == ("", "cron", "abc")
        assert event.extra == {"job": "nightly"}

    def test_an_object_read_from_a_replica_is_recorded_where_it_is_written(self) -> None:
        # As its changes are: a replica may be read-only, and its history is
        # written to the primary.
        Account.objects.using("other").create(name="a")
        with override_settings(DATABASE_ROUTERS=[ReplicaRouter()]):
            account = Account.objects.get(name="a")
            assert account._state.db == "other"
            audit.record("exported", account)
        assert AuditEvent.objects.using("default").filter(action="exported").count() == 1
        assert not AuditEvent.objects.using("other").filter(action="exported").exists()

    def test_an_object_whose_str_fails_is_still_recorded(self) -> None:
        account = Account.objects.create(name="a")
        with mock.patch.object(Account, "__str__", side_effect=AttributeError("no owner")):
            event = audit.record("exported", account)
        assert (event.object_pk, event.object_repr) == (str(account.pk), "<Account>")


@audited()
class HistoryTests(TestCase):
    def test_history_lists_the_objects_events_oldest_first_proxies_included(self) -> None:
        account = Account.objects.create(name="a")
        Account.objects.create(name="other")
        vip = VipAccount.objects.get(pk=account.pk)
        vip.name = "b"
        vip.save()
        audit.record("viewed", account)
        assert [e.action for e in audit.history(account)] == ["create", "update", "viewed"]
        assert [e.action for e in audit.history(vip)] == ["create", "update", "viewed"]

    def test_an_unsaved_object_has_no_history(self) -> None:
        # Not even the events of an object whose text key is "None".
        Ticket.objects.create(code="None")
        assert audit.history(Ticket(code="None")).exists()
        keyless = Ticket()
        keyless.code = None  # type: ignore[assignment]
        assert list(audit.history(keyless)) == []
        assert list(audit.history(Account())) == []

    def test_a_deleted_objects_history_through_the_instance_that_deleted_it(self) -> None:
        account = Account.objects.create(name="a")
        account.name = "b"
        account.save()
        account.delete()
        pk: object = account.pk
        assert pk is None  # (what Django does to a deleted instance)
        assert [e.action for e in audit.history(account)] == ["create", "update", "delete"]
        account.save()  # a new row: its own history
        assert [e.action for e in audit.history(account)] == ["create"]

    def test_a_deleted_objects_history_through_a_lazy_object(self) -> None:
        # (request.user is a SimpleLazyObject.)
        account = Account.objects.create(name="a")
        lazy: Any = SimpleLazyObject(lambda: account)
        lazy.delete()
        assert [e.action for e in audit.history(lazy)] == ["create", "delete"]

    def test_a_key_given_as_text_names_the_same_object(self) -> None:
        # A UUID key assigned in its hex form, then loaded as a UUID.
        key = uuid.uuid4()
        created = Token.objects.create(id=key.hex, label="a")
        loaded = Token.objects.get(pk=key)
        loaded.label = "b"
        loaded.save()
        audit.record("viewed", created)
        expected = ["create", "update", "viewed"]
        assert [e.action for e in audit.history(created)] == expected
        assert [e.action for e in audit.history(loaded)] == expected
        assert {e.object_pk for e in audit.history(loaded)} == {str(key)}

    def test_keys_apart_in_case_accents_or_trailing_spaces_are_other_objects(self) -> None:
        # (MySQL and MariaDB compare text without them by default.)
        codes = ("abc", "ABC", "abc ", "\u00e4bc")
        for code in codes:
            audit.record(f"viewed {code}", Ticket(code=code, title="t"))
        for code in codes:
            assert [e.action for e in audit.history(Ticket(code=code))] == [f"viewed {code}"]

    def test_a_key_longer_than_the_column_is_found(self) -> None:
        ticket = Ticket(code="k" * 300, title="t")  # the column holds 255 characters
        audit.record("viewed", ticket)
        assert [e.action for e in audit.history(ticket)] == ["viewed"]


@audited()
class BatchTests(TestCase):
    def test_changes_by_different_actors_are_not_merged(self) -> None:
        account = Account.objects.create(name="a")
        with audit.batch():
            with audit.context("alice"):
                account.name = "b"
                account.save()
            with audit.context("bob"):
                account.name = "c"
                account.save()
        assert [(e.actor_repr, e.changes) for e in events(action="update")] == [
            ("alice", {"name": ["a", "b"]}),
            ("bob", {"name": ["b", "c"]}),
        ]

    def test_set_rollback_rolls_back_quietly(self) -> None:
        # The usual dry run: as with atomic(), no error and nothing kept.
        with audit.batch():
            Account.objects.create(name="dry")
            transaction.set_rollback(True)
        assert not Account.objects.filter(name="dry").exists()
        assert events() == []

    def test_one_bulk_insert_for_the_block(self) -> None:
        with CaptureQueriesContext(connection) as queries, audit.batch():
            accounts = [Account.objects.create(name=str(n)) for n in range(5)]
            for account in accounts:
                account.name += "!"
                account.save()
            accounts[0].labels.add(Label.objects.create(name="l"))
        assert audit_inserts(queries) == 1
        assert [e.action for e in events()] == ["create"] * 5 + ["m2m_add"]

    def test_repeated_saves_are_coalesced(self) -> None:
        account = Account.objects.create(name="a")
        with audit.batch():
            for name in ("b", "c", "d"):
                account.name = name
                account.save()
        [event] = events(action="update")
        assert event.changes == {"name": ["a", "d"]}

    def test_saves_that_end_where_they_started_leave_no_event(self) -> None:
        account = Account.objects.create(name="a")
        with audit.batch():
            account.name = "b"
            account.save()
            account.name = "a"
            account.save()
        assert events(action="update") == []

    def test_saves_are_compared_as_stored_when_coalesced(self) -> None:
        account = Account.objects.create(name="a", data={"n": 1}, balance=decimal.Decimal(1))
        with audit.batch():
            # In a JSON field 1 and True are two values (Python finds them equal).
            account.data = {"n": 2}
            account.save()
            account.data = {"n": True}
            account.save()
            # "1.0" over Decimal("1.00") is stored as it was.
            account.balance = decimal.Decimal(3)
            account.save()
            account.balance = "1.0"
            account.save()
        [event] = events(action="update")
        assert event.changes == {"data": [{"n": 1}, {"n": True}]}

    def test_coalesced_saves_back_where_they_started_in_another_form_leave_no_event(
        self,
    ) -> None:
        # As a single save compares: one instant in two time zones, a key as text.
        start = datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.UTC)
        one, two = Owner.objects.create(name="1"), Owner.objects.create(name="2")
        account = Account.objects.create(name="a", seen_at=start, owner=one)
        account = Account.objects.get(pk=account.pk)
        with audit.batch():
            account.seen_at = start + datetime.timedelta(hours=1)
            account.owner_id = two.pk
            account.save()
            account.seen_at = start.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
            account.owner_id = str(one.pk)
            account.save()
        assert events(action="update") == []

    def test_coalesced_saves_of_other_columns_compare_as_python_does(self) -> None:
        # A boolean column stores 1 as True: no change, as outside batch().
        with audited(MODELS=["auditapp.Tag"]):
            tag = Tag.objects.get(pk=Tag.objects.create(name="t", active=True).pk)
            with audit.batch():
                tag.active = False
                tag.save()
                tag.active = 1  # type: ignore[assignment]
                tag.save()
        assert events(action="update") == []

    def test_events_of_rolled_back_savepoints_are_dropped(self) -> None:
        with audit.batch():
            Account.objects.create(name="kept")
            try:
                with transaction.atomic():
                    Account.objects.create(name="dropped")
                    raise RolledBack
            except RolledBack:
                pass
        assert [e.object_repr for e in events()] == ["kept"]

    def test_failed_block_writes_nothing(self) -> None:
        def fail() -> None:
            with audit.batch():
                Account.objects.create(name="a")
                raise RolledBack

        with pytest.raises(RolledBack):
            fail()
        assert events() == []

    def test_nested_batches_share_one_buffer(self) -> None:
        with CaptureQueriesContext(connection) as queries, audit.batch():
            Account.objects.create(name="a")
            with audit.batch():
                Account.objects.create(name="b")
        assert audit_inserts(queries) == 1
        assert len(events()) == 2


def install_failing_trigger() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION sk_fail() RETURNS trigger AS $$ BEGIN "
                "IF NEW.object_repr = 'explode' THEN RAISE EXCEPTION 'boom'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER sk_fail BEFORE INSERT ON signalkit_auditevent "
                "FOR EACH ROW EXECUTE FUNCTION sk_fail()"
            )
        elif connection.vendor == "mysql":
            cursor.execute(
                "CREATE TRIGGER sk_fail BEFORE INSERT ON signalkit_auditevent FOR EACH ROW "
                "BEGIN IF NEW.object_repr = 'explode' THEN "
                "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom'; END IF; END"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER sk_fail BEFORE INSERT ON signalkit_auditevent "
                "WHEN NEW.object_repr = 'explode' BEGIN SELECT RAISE(ABORT, 'boom'); END"
            )


def drop_failing_trigger() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER sk_fail ON signalkit_auditevent")
            cursor.execute("DROP FUNCTION sk_fail()")
        else:
            cursor.execute("DROP TRIGGER sk_fail")


def create_account_after_commit(sender: type[Model], **kwargs: Any) -> None:
    Account.objects.create(name="after the commit")


@audited()
class BatchCommitTests(TransactionTestCase):
    # Transactions that really commit: on_commit receivers run after the batch.
    def setUp(self) -> None:
        signalkit.receiver(post_save, sender=Label, on_commit=True)(create_account_after_commit)

    def tearDown(self) -> None:
        post_save.disconnect(create_account_after_commit, sender=Label)

    def test_saves_of_an_on_commit_receiver_after_a_batch_are_recorded(self) -> None:
        with audit.batch():
            Label.objects.create(name="l")
        assert [e.object_repr for e in events(model_label="auditapp.Account")] == [
            "after the commit"
        ]

    def test_saves_of_an_on_commit_receiver_after_an_inner_batch_are_recorded(self) -> None:
        with transaction.atomic(), audit.batch():
            Label.objects.create(name="l")
        assert [e.object_repr for e in events(model_label="auditapp.Account")] == [
            "after the commit"
        ]

    def test_send_on_commit_after_a_batch(self) -> None:
        signal = Signal()
        signal.connect(create_account_after_commit)
        with transaction.atomic(), audit.batch():
            signalkit.send_on_commit(signal, Label)
        assert [e.object_repr for e in events(model_label="auditapp.Account")] == [
            "after the commit"
        ]

    def test_a_batch_of_an_on_commit_receiver_after_a_batch_buffers_its_events(self) -> None:
        def batch_after_commit(sender: type[Model], **kwargs: Any) -> None:
            with audit.batch():
                account = Account.objects.create(name="created")
                account.name = "renamed"
                account.save()

        signal = Signal()
        signalkit.receiver(signal, on_commit=True)(batch_after_commit)
        with audit.batch():
            signal.send(Label)
        # The receiver's own batch coalesces its saves, as any batch does.
        [event] = events(model_label="auditapp.Account")
        assert (event.action, event.object_repr) == ("create", "renamed")


class OnErrorTests(TransactionTestCase):
    # Transactions that really commit: that is when waiting events are written.
    def setUp(self) -> None:
        install_failing_trigger()
        self.addCleanup(drop_failing_trigger)

    def test_raise_fails_the_change(self) -> None:
        def change() -> None:
            with audited(), transaction.atomic():
                Account.objects.create(name="explode")

        with pytest.raises(DatabaseError):
            change()
        assert not Account.objects.exists()
        # The connection is usable again, with its next transaction audited.
        with audited(), transaction.atomic():
            Account.objects.create(name="after")
        assert [e.object_repr for e in AuditEvent.objects.all()] == ["after"]

    def test_log_keeps_the_change_and_the_other_events(self) -> None:
        with self.assertLogs("signalkit.audit", logging.ERROR) as logs:
            with audited(ON_ERROR="log"), transaction.atomic():
                Account.objects.create(name="explode")
                Account.objects.create(name="fine")
            Account.objects.create(name="later")
        assert sorted(Account.objects.values_list("name", flat=True)) == [
            "explode",
            "fine",
            "later",
        ]
        # Written together at commit; when that fails, one by one: only the
        # event that cannot be written is lost.
        assert [e.object_repr for e in AuditEvent.objects.order_by("pk")] == ["fine"]
        assert len(logs.output) == 1
        assert "could not record 1 audit event" in logs.output[0]

    def test_log_in_autocommit(self) -> None:
        with audited(ON_ERROR="log"), self.assertLogs("signalkit.audit", logging.ERROR):
            Account.objects.create(name="explode")
            Account.objects.create(name="fine")
        assert Account.objects.count() == 2
        assert [e.object_repr for e in AuditEvent.objects.all()] == ["fine"]
