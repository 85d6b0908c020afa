from __future__ import annotations

import json
import os
import tempfile

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import TestCase

from signalkit.models import AuditEvent, AuditLogImmutableError
from signalkit.testing import mute_signals


class AuditEventTests(TestCase):
    def setUp(self) -> None:
        self.event = AuditEvent.objects.create(action="custom", model_label="a.B", object_pk="1")

    def test_saving_an_existing_event_raises(self) -> None:
        self.event.action = "changed"
        with pytest.raises(AuditLogImmutableError, match="append-only"):
            self.event.save()

    def test_deleting_an_event_raises(self) -> None:
        with pytest.raises(AuditLogImmutableError):
            self.event.delete()

    def test_queryset_update_and_delete_raise(self) -> None:
        with pytest.raises(AuditLogImmutableError):
            AuditEvent.objects.filter(pk=self.event.pk).update(action="x")
        with pytest.raises(AuditLogImmutableError):
            AuditEvent.objects.all().delete()
        with pytest.raises(AuditLogImmutableError):
            AuditEvent.objects.bulk_update([self.event], ["action"])
        assert AuditEvent.objects.get().action == "custom"

    def test_no_other_orm_path_overwrites_or_deletes_an_event(self) -> None:
        pk = self.event.pk
        with pytest.raises(IntegrityError), transaction.atomic():
            AuditEvent(pk=pk, action="forged").save()  # an INSERT, never an UPDATE
        with pytest.raises(IntegrityError), transaction.atomic():
            AuditEvent(pk=pk, action="forged").save_base(raw=True)
        with pytest.raises(AuditLogImmutableError):
            AuditEvent(pk=pk, action="forged").save(force_update=True)
        with pytest.raises(AuditLogImmutableError):
            AuditEvent.objects.bulk_create(
                [AuditEvent(pk=pk, action="forged")],
                update_conflicts=True,
                unique_fields=["id"],
                update_fields=["action"],
            )
        # The same upsert with Django's arguments given by position.
        with pytest.raises(AuditLogImmutableError):
            AuditEvent.objects.bulk_create(
                [AuditEvent(pk=pk, action="forged")], None, False, True, ["action"], ["id"]
            )

        async def upsert() -> None:
            await AuditEvent.objects.abulk_create(
                [AuditEvent(pk=pk, action="forged")], None, False, True, ["action"], ["id"]
            )

        with pytest.raises(AuditLogImmutableError):
            async_to_sync(upsert)()
        with pytest.raises(AuditLogImmutableError):
            AuditEvent._base_manager.filter(pk=pk).update(action="forged")
        with pytest.raises(AuditLogImmutableError):
            AuditEvent._base_manager.all().delete()
        assert list(AuditEvent.objects.values_list("pk", "action")) == [(pk, "custom")]

    def test_a_fixture_adds_events_but_never_replaces_one(self) -> None:
        def load(pk: int, action: str) -> None:
            fixture = [{"model": "signalkit.auditevent", "pk": pk, "fields": {"action": action}}]
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
                json.dump(fixture, file)
            try:
                call_command("loaddata", file.name, verbosity=0)
            finally:
                os.unlink(file.name)

        load(self.event.pk + 1, "imported")
        with pytest.raises(IntegrityError), transaction.atomic():
            load(self.event.pk, "loaded-over")
        with pytest.raises(IntegrityError), transaction.atomic(), mute_signals():
            load(self.event.pk, "loaded-over")  # no receiver to switch off
        assert list(AuditEvent.objects.order_by("pk").values_list("action", flat=True)) == [
            "custom",
            "imported",
        ]

    def test_str_names_action_and_object(self) -> None:
        assert str(self.event) == "custom a.B 1"
