"""Masks that reach a model from its relatives: a multi-table child's masks on
its parent's events, and a masked field a key refers to (``to_field``)."""

from __future__ import annotations

import datetime
import json

from django.db import connection
from django.test import TestCase

from signalkit.audit.serialize import MASKED
from tests.audit_utils import audited, events
from tests.auditapp.models import (
    Account,
    ApiCall,
    ApiClient,
    ApiLicense,
    ApiSeat,
    Cupboard,
    Owner,
    Scope,
    Shelf,
    Stamped,
)

KEY = "sk_live_0123456789"


class ChildMaskTests(TestCase):
    def test_a_childs_mask_applies_to_its_parents_events(self) -> None:
        # Deleting a child deletes its parent's row too, and Django signals it
        # as an object of its own: its event carries the child's masked field.
        models = {"auditapp.Shelf": {}, "auditapp.Cupboard": {"mask": ["name"]}}
        with audited(MODELS=models):
            cupboard = Cupboard.objects.create(name="secret project")
            shelf = Shelf.objects.get(pk=cupboard.pk)
            shelf.name = "another secret project"
            shelf.save()
            cupboard.delete()
        recorded = [(e.action, e.model_label, e.changes) for e in events()]
        assert recorded == [
            ("create", "auditapp.Cupboard", {"name": [None, MASKED]}),
            ("update", "auditapp.Shelf", {"name": [MASKED, MASKED]}),
            ("delete", "auditapp.Cupboard", {"name": [MASKED, None]}),
            ("delete", "auditapp.Shelf", {"name": [MASKED, None]}),
        ]
        assert "secret" not in str(recorded)

    def test_a_childs_exclude_and_unmask_stay_its_own(self) -> None:
        models = {
            "auditapp.Shelf": {"mask": ["name"]},
            "auditapp.Cupboard": {"unmask": ["name"], "exclude": ["labels"]},
        }
        with audited(MODELS=models):
            shelf = Shelf.objects.create(name="plain")
        assert events()[0].changes == {"name": [None, MASKED]}
        assert shelf.pk is not None


class KeyMaskTests(TestCase):
    def test_a_key_to_a_masked_field_is_masked(self) -> None:
        # ApiCall refers to its client by the client's API key, which the
        # default masks match: the key would otherwise record the secret.
        with audited(MODELS=["auditapp.ApiCall"]):
            client = ApiClient.objects.create(name="c", api_key=KEY)
            call = ApiCall.objects.create(client=client, path="/a")
            call.client = ApiClient.objects.create(name="d", api_key=KEY + "2")
            call.save()
            call.delete()
        assert [e.changes for e in events()] == [
            {"client": [None, MASKED], "path": [None, "/a"]},
            {"client": [MASKED, MASKED]},
            {"client": [MASKED, None], "path": ["/a", None]},
        ]

    def test_a_key_to_a_key_holding_a_masked_value_is_masked(self) -> None:
        # A seat refers to its license by the license's key, which is the
        # client's API key (a to_field to a to_field).
        with audited(MODELS=["auditapp.ApiLicense", "auditapp.ApiSeat"]):
            client = ApiClient.objects.create(name="c", api_key=KEY)
            license = ApiLicense.objects.create(client=client)
            seat = ApiSeat.objects.create(license=license, holder="h")
            seat.delete()
        recorded = [(e.action, e.model_label, e.changes) for e in events()]
        assert recorded == [
            ("create", "auditapp.ApiLicense", {"client": [None, MASKED], "seats": [None, 1]}),
            ("create", "auditapp.ApiSeat", {"license": [None, MASKED], "holder": [None, "h"]}),
            ("delete", "auditapp.ApiSeat", {"license": [MASKED, None], "holder": ["h", None]}),
        ]
        assert KEY not in json.dumps(recorded)

    def test_an_unmasked_key_at_the_end_of_the_chain_is_recorded(self) -> None:
        client = ApiClient.objects.create(name="c", api_key="k")
        license = ApiLicense.objects.create(client=client)
        unmasked = {"auditapp.ApiSeat": {}, "auditapp.ApiClient": {"unmask": ["api_key"]}}
        with audited(MODELS=unmasked):
            ApiSeat.objects.create(license=license, holder="h")
        assert events()[0].changes["license"] == [None, "k"]

    def test_the_targets_own_mask_and_unmask_apply(self) -> None:
        client = ApiClient.objects.create(name="c", api_key="k")
        unmasked = {"auditapp.ApiCall": {}, "auditapp.ApiClient": {"unmask": ["api_key"]}}
        with audited(MODELS=unmasked):
            ApiCall.objects.create(client=client, path="/a")
        assert events(model_label="auditapp.ApiCall")[0].changes["client"] == [None, "k"]

    def test_a_key_to_a_primary_key_is_recorded(self) -> None:
        # (A primary key is no secret: every event names its object's.)
        owner = Owner.objects.create(name="o")
        with audited(MASK_FIELDS=["id"]):
            Account.objects.create(name="a", owner=owner)
        assert events()[0].changes["owner"] == [None, owner.pk]

    def test_the_links_of_a_through_model_keyed_on_a_masked_field_are_masked(self) -> None:
        client = ApiClient.objects.create(name="c", api_key=KEY)
        with audited(MODELS=["auditapp.Scope"]):
            scope = Scope.objects.create(name="read")
            scope.clients.add(client)
            scope.clients.remove(client)
        recorded = [e.changes for e in events(action__startswith="m2m")]
        assert recorded == [{"clients": {"add": MASKED}}, {"clients": {"remove": MASKED}}]
        assert KEY not in str([e.changes for e in events()])


@audited(MODELS=["auditapp.Stamped"])
class EncodedJsonTests(TestCase):
    def test_values_are_recorded_as_the_fields_encoder_writes_them(self) -> None:
        at = datetime.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=datetime.UTC)
        stamped = Stamped.objects.create(meta={"at": at, "t": datetime.time(1, 2, 3, 456789)})
        with connection.cursor() as cursor:
            cursor.execute("SELECT meta FROM auditapp_stamped WHERE id = %s", [stamped.pk])
            [stored] = cursor.fetchone()
        column = stored if isinstance(stored, dict) else json.loads(stored)
        assert events()[0].changes["meta"] == [None, column]
        assert column == {"at": "2024-05-01T12:00:00.123Z", "t": "01:02:03.456"}

    def test_saving_what_the_column_holds_again_is_no_change(self) -> None:
        at = datetime.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=datetime.UTC)
        stamped = Stamped.objects.create(meta={"at": at})
        stamped.meta = {"at": at}  # a new dict, the same column value
        stamped.save()
        stamped.meta = {"at": "2024-05-01T12:00:00.123Z"}  # what the encoder wrote
        stamped.save()
        assert [e.action for e in events()] == ["create"]
        stamped.meta = {"at": at + datetime.timedelta(seconds=1)}
        stamped.save()
        assert events()[-1].changes == {
            "meta": [{"at": "2024-05-01T12:00:00.123Z"}, {"at": "2024-05-01T12:00:01.123Z"}]
        }


class AttnameOptionTests(TestCase):
    """An option may name a foreign key by its attname ("owner_id"), as
    ``only()`` and ``update_fields`` accept it."""

    def test_mask_exclude_and_include_by_attname(self) -> None:
        owner = Owner.objects.create(name="o")
        for options, expected in (
            ({"mask": ["owner_id"]}, {"name": [None, "a"], "owner": [None, MASKED]}),
            ({"exclude": ["owner_id"]}, {"name": [None, "a"]}),
            ({"include": ["name", "owner_id"]}, {"name": [None, "a"], "owner": [None, owner.pk]}),
        ):
            with self.subTest(options=options):
                options = {**options, "include": options.get("include", ["name", "owner"])}
                with audited(MODELS={"auditapp.Account": options}):
                    account = Account.objects.create(name="a", owner=owner)
                assert events(object_pk=str(account.pk))[0].changes == expected

    def test_mask_fields_and_unmask_by_attname(self) -> None:
        owner = Owner.objects.create(name="o")
        models = {"auditapp.Account": {"include": ["owner"]}}
        with audited(MODELS=models, MASK_FIELDS=["owner_id"]):
            first = Account.objects.create(name="a", owner=owner)
        models = {"auditapp.Account": {"include": ["owner"], "unmask": ["owner_id"]}}
        with audited(MODELS=models, MASK_FIELDS=["owner"]):
            second = Account.objects.create(name="b", owner=owner)
        assert events(object_pk=str(first.pk))[0].changes == {"owner": [None, MASKED]}
        assert events(object_pk=str(second.pk))[0].changes == {"owner": [None, owner.pk]}

    def test_a_pattern_matches_names_not_attnames(self) -> None:
        # "*_id" means fields so named (external_id), not every foreign key.
        owner = Owner.objects.create(name="o")
        models = {"auditapp.Account": {"include": ["name", "owner"]}}
        with audited(MODELS=models, EXCLUDE_FIELDS=["*_id"], MASK_FIELDS=["*_id"]):
            account = Account.objects.create(name="a", owner=owner)
        assert events(object_pk=str(account.pk))[0].changes["owner"] == [None, owner.pk]
