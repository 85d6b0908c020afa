from __future__ import annotations

import datetime
import decimal
import tempfile
import uuid

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.signals import post_save
from django.test import TestCase, override_settings
from django.utils import timezone

from signalkit.audit import history, snapshot
from signalkit.audit.serialize import MASKED
from signalkit.models import AuditEvent
from signalkit.testing import mute_signals
from tests.audit_utils import audited, events, queries_with_log
from tests.auditapp.models import (
    Account,
    Cupboard,
    Deal,
    GoldAccount,
    Hand,
    Label,
    Note,
    Owner,
    Plain,
    Priced,
    Seat,
    VipAccount,
)


@audited()
class SaveTests(TestCase):
    def test_create_records_every_field_as_native_json(self) -> None:
        owner = Owner.objects.create(name="o")
        account = Account.objects.create(
            name="a",
            balance=decimal.Decimal("12.50"),
            born=datetime.date(2000, 1, 2),
            seen_at=datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC),
            uid=uuid.UUID(int=5),
            blob=b"\x00\x01",
            data={"k": [1, 2]},
            owner=owner,
            password="hunter2",
            api_key="abc",
            token="tok",
        )
        [event] = events(action="create")
        assert event.model_label == "auditapp.Account"
        assert event.object_pk == str(account.pk)
        assert event.object_repr == "a"
        changes = event.changes
        assert changes["name"] == [None, "a"]
        assert changes["balance"] == [None, "12.50"]
        assert changes["born"] == [None, "2000-01-02"]
        assert changes["seen_at"] == [None, "2024-05-06T07:08:09+00:00"]
        assert changes["uid"] == [None, str(uuid.UUID(int=5))]
        assert changes["data"] == [None, {"k": [1, 2]}]
        assert changes["owner"] == [None, owner.pk]
        assert changes["doc"] == [None, None]
        for secret in ("password", "api_key", "token", "blob"):
            assert changes[secret] == [None, MASKED]
        assert "last_login" not in changes
        assert "hunter2" not in str(AuditEvent.objects.values_list("changes", flat=True)[0])

    def test_a_value_assigned_as_another_type_is_recorded_as_the_column_keeps_it(self) -> None:
        # As a later load of the row gives it back: 3, not "3"; True, not 1.
        owner = Owner.objects.create(name="o")
        models: dict[str, dict[str, list[str]]] = {
            "auditapp.Account": {},
            "auditapp.Priced": {},
            "auth.User": {},
        }
        with audited(MODELS=models):
            Account.objects.create(name="a", owner_id=str(owner.pk))
            priced = Priced.objects.create(price="2.50", quantity="3")
            User.objects.create(username="u", is_staff=1)  # type: ignore[misc]
            loaded = Priced.objects.get(pk=priced.pk)
            loaded.quantity = "4"
            loaded.save()
        [created] = events(action="create", model_label="auditapp.Account")
        assert created.changes["owner"] == [None, owner.pk]
        [created] = events(action="create", model_label="auditapp.Priced")
        assert created.changes["quantity"] == [None, 3]
        [created] = events(action="create", model_label="auth.User")
        assert created.changes["is_staff"] == [None, True]
        [updated] = events(action="update", model_label="auditapp.Priced")
        assert updated.changes["quantity"] == [3, 4]

    def test_a_number_assigned_to_a_text_field_is_recorded_as_the_text_it_keeps(self) -> None:
        # The column keeps "5", which a later load gives back: not 5, 1.5 or true.
        account = Account.objects.create(name=5)
        account.name = 1.5  # type: ignore[assignment]
        account.save()
        account.name = True
        account.save()
        account.name = "True"
        account.save()  # what the column holds already: no change
        assert [event.changes["name"] for event in events()] == [
            [None, "5"],
            ["5", "1.5"],
            ["1.5", "True"],
        ]

    def test_update_records_only_changed_fields(self) -> None:
        account = Account.objects.create(name="a", balance=1)
        account.name = "b"
        account.save()
        [event] = events(action="update")
        assert event.changes == {"name": ["a", "b"]}

    def test_update_without_change_records_nothing(self) -> None:
        account = Account.objects.create(name="a")
        account.save()
        fetched = Account.objects.get(pk=account.pk)
        fetched.save()
        assert events(action="update") == []

    def test_update_of_loaded_instance_needs_no_select(self) -> None:
        account = Account.objects.create(name="a")
        fetched = Account.objects.get(pk=account.pk)
        fetched.name = "b"
        with queries_with_log() as queries:
            fetched.save()
        assert len(queries) == 2
        assert events(action="update")[0].changes == {"name": ["a", "b"]}

    def test_update_of_an_instance_built_in_memory_records_what_changed_in_the_row(
        self,
    ) -> None:
        account = Account.objects.create(name="a")
        with queries_with_log() as queries:
            Account(pk=account.pk, name="b", uid=account.uid).save()
        assert len(queries) == 3  # the row's SELECT, the UPDATE and the event's INSERT
        [event] = events(action="update")
        assert event.changes == {"name": ["a", "b"]}

    def test_only_instances_with_a_primary_key_are_snapshotted_at_init(self) -> None:
        account = Account.objects.create(name="a")
        assert snapshot.ATTRIBUTE not in Account(name="new").__dict__  # a create follows
        assert snapshot.ATTRIBUTE in Account.objects.get(pk=account.pk).__dict__
        built = Account(name="b", uid=account.uid)
        built.pk = account.pk
        built.save()
        assert events(action="update")[0].changes == {"name": ["a", "b"]}

    def test_update_fields_is_honoured(self) -> None:
        account = Account.objects.create(name="a", token="t")
        account.name = "b"
        account.balance = decimal.Decimal(3)
        account.save(update_fields=["name"])
        account.save(update_fields=["balance"])
        assert [event.changes for event in events(action="update")] == [
            {"name": ["a", "b"]},
            {"balance": ["0.00", "3.00"]},
        ]

    def test_deferred_field_read_later_is_not_a_change(self) -> None:
        Account.objects.create(name="a", balance=decimal.Decimal(2))
        account = Account.objects.only("name").get()
        assert account.balance == decimal.Decimal(2)  # Django loads it now
        account.name = "b"
        account.save()
        assert [event.changes for event in events(action="update")] == [{"name": ["a", "b"]}]

    def test_deferred_field_assigned_records_its_old_value(self) -> None:
        Account.objects.create(name="a", balance=decimal.Decimal(2))
        account = Account.objects.only("name").get()
        account.balance = decimal.Decimal(5)
        with queries_with_log() as queries:
            account.save()
        assert [event.changes for event in events(action="update")] == [
            {"balance": ["2.00", "5.00"]}
        ]
        # The old value is read once, before the UPDATE; the next save needs no read.
        assert len(queries) == 3
        account.balance = decimal.Decimal(6)
        with queries_with_log() as queries:
            account.save()
        assert len(queries) == 2
        assert events(action="update")[-1].changes == {"balance": ["5.00", "6.00"]}

    def test_deferred_field_outside_update_fields_is_not_read(self) -> None:
        Account.objects.create(name="a", balance=decimal.Decimal(2))
        account = Account.objects.only("name").get()
        account.balance = decimal.Decimal(5)
        account.name = "b"
        with queries_with_log() as queries:
            account.save(update_fields=["name"])
        assert len(queries) == 2
        assert events(action="update")[-1].changes == {"name": ["a", "b"]}

    def test_full_snapshot_adds_no_query(self) -> None:
        Account.objects.create(name="a")
        account = Account.objects.get()
        account.name = "b"
        with queries_with_log() as queries:
            account.save()
        assert len(queries) == 2

    def test_masked_change_hides_both_values(self) -> None:
        account = Account.objects.create(name="a", password="old-secret")
        account.password = "new-secret"
        account.save()
        [event] = events(action="update")
        assert event.changes == {"password": [MASKED, MASKED]}

    def test_own_masks_and_excludes_add_to_the_defaults(self) -> None:
        with audited(MASK_FIELDS=["*iban*"], EXCLUDE_FIELDS=["born"]):
            account = Account.objects.create(
                name="a", password="hunter2", api_key="k", token="t", last_login=timezone.now()
            )
        changes = events(object_pk=str(account.pk))[0].changes
        for name in ("password", "api_key", "token"):
            assert changes[name] == [None, MASKED], name
        assert "last_login" not in changes
        assert "born" not in changes
        assert "hunter2" not in str(changes)

    def test_unmask_records_a_field_a_global_mask_would_hide(self) -> None:
        # "token" matches the default "*token*"; this model's token is no secret.
        models = {"auditapp.Account": {"unmask": ["Token"], "mask": ["blob"]}}
        with audited(MODELS=models, MASK_FIELDS=["*iban*"]):
            account = Account.objects.create(name="a", token="t-1", password="hunter2", blob=b"x")
            account.token = "t-2"
            account.save()
        create, update = events(object_pk=str(account.pk))
        assert create.changes["token"] == [None, "t-1"]
        assert update.changes == {"token": ["t-1", "t-2"]}
        # Only the field named: the other defaults still mask.
        assert create.changes["password"] == [None, MASKED]
        assert create.changes["api_key"] == [None, MASKED]

    def test_a_listed_proxy_shares_its_unmask(self) -> None:
        # One history: a field is recorded the same way whichever class saves it.
        models = {"auditapp.Account": {}, "auditapp.VipAccount": {"unmask": ["token"]}}
        with audited(MODELS=models):
            account = Account.objects.create(name="a", token="t-1")
        assert events(object_pk=str(account.pk))[0].changes["token"] == [None, "t-1"]

    def test_unmask_never_lifts_the_models_own_mask(self) -> None:
        models = {"auditapp.Account": {"unmask": ["token"], "mask": ["tok*"]}}
        with audited(MODELS=models):
            account = Account.objects.create(name="a", token="t-1")
        assert events(object_pk=str(account.pk))[0].changes["token"] == [None, MASKED]

    def test_a_listed_proxy_keeps_the_concrete_models_masks(self) -> None:
        # One history: whichever class saves the object, the same fields are masked.
        models = {"auditapp.Account": {"mask": ["name"]}, "auditapp.VipAccount": {"mask": ["born"]}}
        with audited(MODELS=models):
            account = Account.objects.create(name="secret-a")
            vip = VipAccount.objects.get(pk=account.pk)
            vip.name = "secret-b"
            vip.born = datetime.date(2000, 1, 1)
            vip.save()
        [update] = events(action="update")
        assert update.changes == {"name": [MASKED, MASKED], "born": [MASKED, MASKED]}
        assert "secret" not in str([e.changes for e in events()])

    def test_two_labels_of_one_model_both_apply(self) -> None:
        # Neither entry's mask may be lost to the other (signalkit.W025 reports it).
        for models in (
            {"auditapp.Account": {"mask": ["name"]}, "auditapp.account": {"exclude": ["born"]}},
            {"auditapp.account": {"exclude": ["born"]}, "auditapp.Account": {"mask": ["name"]}},
        ):
            with audited(MODELS=models):
                account = Account.objects.create(name="secret", born=datetime.date(2000, 1, 1))
            [event] = events(object_pk=str(account.pk))
            assert event.changes["name"] == [None, MASKED]
            assert "born" not in event.changes
            AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)

    def test_a_multi_table_child_keeps_its_parents_masks(self) -> None:
        # A child's events carry the parent's fields: masked as the parent's are.
        models = {"auditapp.Shelf": {"mask": ["name"]}, "auditapp.Cupboard": {}}
        with audited(MODELS=models):
            cupboard = Cupboard.objects.create(name="s3cr3t")
            cupboard.name = "other secret"
            cupboard.save()
        assert [e.changes for e in events(model_label="auditapp.Cupboard")] == [
            {"name": [None, MASKED]},
            {"name": [MASKED, MASKED]},
        ]
        assert "secret" not in str([e.changes for e in events()])

    def test_a_proxy_of_a_listed_proxy_follows_the_nearest_one(self) -> None:
        for models in (
            {"auditapp.Account": {"include": ["name"]}, "auditapp.VipAccount": {}},
            {"auditapp.VipAccount": {}, "auditapp.Account": {"include": ["name"]}},
        ):
            with audited(MODELS=models):
                gold = GoldAccount.objects.create(name="g", balance=3)
            changes = events(object_pk=str(gold.pk))[0].changes
            assert {"name", "balance"} <= changes.keys(), models

    def test_files_changed_in_place_are_seen(self) -> None:
        # FieldFile.save() and .delete() change the instance's file in place.
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            account = Account.objects.create(name="a")
            account.doc.save("one.txt", ContentFile(b"1"))
            account.doc.save("two.txt", ContentFile(b"2"))
            account.doc.delete()
        assert [e.changes["doc"] for e in events(action="update")] == [
            [None, "docs/one.txt"],
            ["docs/one.txt", "docs/two.txt"],
            ["docs/two.txt", None],
        ]

    def test_an_empty_file_is_null_on_create_update_and_delete(self) -> None:
        # The column holds "" and the instance a FieldFile without a name (or,
        # loaded, the bare ""): one value, recorded as null.
        account = Account.objects.create(name="a")
        loaded = Account.objects.get(pk=account.pk)
        loaded.doc = None
        loaded.name = "b"
        loaded.save()
        Account.objects.get(pk=account.pk).delete()
        recorded = [(e.action, e.changes.get("doc")) for e in events()]
        assert recorded == [("create", [None, None]), ("update", None), ("delete", [None, None])]

    def test_json_values_equal_in_python_but_not_in_the_column(self) -> None:
        account = Account.objects.create(name="a", data={"flag": 1})
        for value in (True, 1.0, 1):
            account.data = {"flag": value}
            account.save()
        assert [e.changes["data"] for e in events(action="update")] == [
            [{"flag": 1}, {"flag": True}],
            [{"flag": True}, {"flag": 1.0}],
            [{"flag": 1.0}, {"flag": 1}],
        ]

    def test_values_assigned_as_text_that_store_the_same_are_no_change(self) -> None:
        owner = Owner.objects.create(name="o")
        seen = datetime.datetime(2024, 1, 1, 10, tzinfo=datetime.UTC)
        Account.objects.create(name="a", owner=owner, balance=decimal.Decimal("1.50"), seen_at=seen)
        account = Account.objects.get(name="a")
        account.owner_id = str(owner.pk)
        account.balance = "1.5"
        account.seen_at = "2024-01-01 10:00:00+00:00"
        account.save()
        account.balance = decimal.Decimal("1.500")
        account.save()
        assert events(action="update") == []
        account.balance = "2"
        account.save()
        assert [e.changes for e in events(action="update")] == [{"balance": ["1.50", "2.00"]}]

    def test_json_values_stored_the_same_are_no_change(self) -> None:
        # A tuple is stored as a list, and keys as strings.
        Account.objects.create(name="a", data={"k": [1, 2], "1": "x"})
        account = Account.objects.get(name="a")
        account.data = {"k": (1, 2), 1: "x"}
        account.save()
        assert events(action="update") == []

    def test_values_are_recorded_as_the_column_keeps_them(self) -> None:
        account = Account.objects.create(name="a", balance=decimal.Decimal("1.234"))
        account.born = datetime.datetime(2024, 1, 2, 10, 30, tzinfo=datetime.UTC)
        account.save()  # a DateField keeps the date
        account.balance = decimal.Decimal("1.23")
        account.save()  # the database holds 1.23 already
        account.refresh_from_db()
        assert (account.balance, account.born) == (
            decimal.Decimal("1.23"),
            datetime.date(2024, 1, 2),
        )
        [create, update] = events()
        assert create.changes["balance"] == [None, "1.23"]
        assert update.changes == {"born": [None, "2024-01-02"]}

    def test_decimal_ties_are_rounded_as_the_database_rounds_them(self) -> None:
        # PostgreSQL rounds 1.225 to 1.23, Django's SQLite converter to 1.22.
        for value in ("1.225", "-1.225", "2.675"):
            account = Account.objects.create(name=value, balance=decimal.Decimal(value))
            stored = Account.objects.get(pk=account.pk).balance
            account.balance = stored
            account.save()  # what the column holds: no change
            assert events(object_pk=str(account.pk))[0].changes["balance"] == [None, str(stored)]
        assert events(action="update") == []

    def test_a_custom_fields_values_are_recorded_as_its_serializers_text(self) -> None:
        with audited(MODELS=["auditapp.Deal"]):
            deal = Deal.objects.create(hand=Hand("AS,KD"))
            deal = Deal.objects.get(pk=deal.pk)
            deal.hand = Hand("AS,KD")
            deal.save()  # an equal hand: no change
            deal.hand = Hand("2C")
            deal.save()
        assert [e.changes for e in events()] == [
            {"hand": [None, "AS,KD"]},
            {"hand": ["AS,KD", "2C"]},
        ]
        field = Deal._meta.get_field("hand")
        assert field.to_python(events()[1].changes["hand"][1]) == Hand("2C")

    def test_json_field_mutated_in_place_is_seen(self) -> None:
        account = Account.objects.create(name="a", data={"n": 1})
        account.data["n"] = 2
        account.save()
        assert events(action="update")[0].changes == {"data": [{"n": 1}, {"n": 2}]}

    def test_proxy_saves_are_recorded_under_the_concrete_label(self) -> None:
        vip = VipAccount.objects.create(name="v")
        vip.name = "w"
        vip.save()
        assert [(e.action, e.model_label) for e in events()] == [
            ("create", "auditapp.Account"),
            ("update", "auditapp.Account"),
        ]

    def test_fixture_saves_are_skipped(self) -> None:
        account = Account(name="raw")
        account.save_base(raw=True)
        assert events() == []

    def test_over_long_repr_is_truncated(self) -> None:
        Account.objects.create(name="x" * 300)
        assert len(events()[0].object_repr) == 255

    def test_unaudited_model_records_nothing(self) -> None:
        Plain.objects.create(name="p").labels.add(Label.objects.create(name="l"))
        assert events() == []


@audited()
class MuteTests(TestCase):
    def test_a_catch_all_mute_keeps_the_snapshots_of_instances_loaded_in_it(self) -> None:
        account = Account.objects.create(name="a")
        with mute_signals():  # (a fixture helper that silences side effects)
            loaded = Account.objects.get(pk=account.pk)
        loaded.name = "b"
        loaded.save()
        assert [event.changes for event in events(action="update")] == [{"name": ["a", "b"]}]

    def test_a_catch_all_mute_keeps_recording(self) -> None:
        with mute_signals():
            account = Account.objects.create(name="a")
        account.name = "b"
        account.save()
        assert [event.changes["name"] for event in events()] == [[None, "a"], ["a", "b"]]

    def test_a_mute_of_post_save_stops_the_recording(self) -> None:
        with mute_signals(post_save):
            Account.objects.create(name="a")
        assert events() == []


@audited()
class DeleteTests(TestCase):
    def test_delete_records_last_values(self) -> None:
        account = Account.objects.create(name="a")
        pk = account.pk
        account.delete()
        [event] = events(action="delete")
        assert event.object_pk == str(pk)
        assert event.changes["name"] == ["a", None]

    def test_cascade_is_recorded_and_history_survives(self) -> None:
        account = Account.objects.create(name="a")
        Note.objects.create(account=account, text="n")
        account.delete()
        assert sorted((e.action, e.model_label) for e in events(action="delete")) == [
            ("delete", "auditapp.Account"),
            ("delete", "auditapp.Note"),
        ]
        assert AuditEvent.objects.count() == 4


@audited()
class M2MTests(TestCase):
    def setUp(self) -> None:
        self.account = Account.objects.create(name="a")
        self.one = Label.objects.create(name="1")
        self.two = Label.objects.create(name="2")
        self.three = Label.objects.create(name="3")

    def test_add_and_remove(self) -> None:
        self.account.labels.add(self.one, self.two)
        self.account.labels.add(self.one)
        self.account.labels.remove(self.two)
        assert [(e.action, e.changes) for e in events(action__startswith="m2m")] == [
            ("m2m_add", {"labels": {"add": sorted([self.one.pk, self.two.pk])}}),
            ("m2m_remove", {"labels": {"remove": [self.two.pk]}}),
        ]

    def test_clear_records_only_the_removed_pks(self) -> None:
        other = Account.objects.create(name="b")
        other.labels.add(self.three)
        self.account.labels.add(self.one, self.two)
        self.account.labels.clear()
        [event] = events(action="m2m_clear")
        assert event.object_pk == str(self.account.pk)
        assert event.changes == {"labels": {"remove": sorted([self.one.pk, self.two.pk])}}

    def test_reverse_add_records_on_the_audited_side(self) -> None:
        self.one.accounts.add(self.account)
        [event] = events(action="m2m_add")
        assert event.model_label == "auditapp.Account"
        assert event.object_pk == str(self.account.pk)
        assert event.changes == {"labels": {"add": [self.one.pk]}}

    def test_reverse_clear(self) -> None:
        self.one.accounts.add(self.account)
        self.one.accounts.clear()
        [event] = events(action="m2m_clear")
        assert event.object_pk == str(self.account.pk)
        assert event.changes == {"labels": {"remove": [self.one.pk]}}


class ConnectionTests(TestCase):
    databases = {"default", "other"}

    def test_events_go_to_the_database_of_the_change(self) -> None:
        with audited():
            account = Account.objects.using("other").create(name="elsewhere")
            account.name = "moved"
            account.save()
        assert not AuditEvent.objects.exists()
        assert [e.action for e in AuditEvent.objects.using("other").order_by("pk")] == [
            "create",
            "update",
        ]

    def test_receivers_follow_override_settings(self) -> None:
        Account.objects.create(name="before")
        with audited():
            Account.objects.create(name="during")
        Account.objects.create(name="after")
        assert [e.object_repr for e in events()] == ["during"]

    def test_per_model_exclude_and_include(self) -> None:
        models = {"auditapp.Account": {"include": ["name", "balance"], "exclude": ["balance"]}}
        with override_settings(SIGNALKIT={"AUDIT": {"MODELS": models}}):
            Account.objects.create(name="a", balance=2)
        assert events()[0].changes == {"name": [None, "a"]}

    def test_include_takes_patterns_matched_case_insensitively(self) -> None:
        models = {"auditapp.Account": {"include": ["NAME", "bal*"]}}
        with override_settings(SIGNALKIT={"AUDIT": {"MODELS": models}}):
            Account.objects.create(name="a", balance=2)
        assert events()[0].changes == {"name": [None, "a"], "balance": [None, "2.00"]}

    def test_events_are_written_on_the_change_alias(self) -> None:
        with audited(), transaction.atomic():
            Account.objects.create(name="a")
            assert AuditEvent.objects.count() == 1


@audited(MODELS=["auditapp.Seat"])
class CompositeKeyTests(TestCase):
    def test_an_update_of_a_loaded_instance_records_only_what_changed(self) -> None:
        Seat.objects.create(hall="a", number=1, holder="x")
        seat = Seat.objects.get(pk=("a", 1))
        seat.holder = "y"
        seat.save()
        with transaction.atomic():
            seat = Seat.objects.get(pk=("a", 1))
            seat.holder = "z"
            seat.save()
        assert [(e.action, e.object_pk, e.changes) for e in events()][1:] == [
            ("update", "('a', 1)", {"holder": ["x", "y"]}),
            ("update", "('a', 1)", {"holder": ["y", "z"]}),
        ]

    def test_a_key_assigned_as_text_names_the_object_as_loaded(self) -> None:
        Seat(hall="a", number="2", holder="x").save()
        seat = Seat.objects.get(pk=("a", 2))
        seat.holder = "y"
        seat.save()
        assert [e.action for e in history(seat)] == ["create", "update"]
