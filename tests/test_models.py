from __future__ import annotations

import pytest
from django.test import TestCase

from signalkit.models import AuditEvent, AuditLogImmutableError


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

    def test_str_names_action_and_object(self) -> None:
        assert str(self.event) == "custom a.B 1"
