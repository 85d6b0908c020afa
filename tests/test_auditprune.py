from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from signalkit.models import AuditEvent


def at(day: int) -> datetime.datetime:
    return datetime.datetime(2024, 1, day, 12, tzinfo=datetime.UTC)


class AuditPruneTests(TestCase):
    def setUp(self) -> None:
        for day in (1, 2, 3, 4):
            AuditEvent.objects.create(action="custom", occurred_at=at(day))

    def run_command(self, *args: str) -> str:
        out = StringIO()
        call_command("auditprune", *args, stdout=out)
        return out.getvalue()

    def test_deletes_older_events_in_batches(self) -> None:
        output = self.run_command("--before", "2024-01-03", "--batch-size", "1")
        assert output == "Deleted 2 audit event(s) before 2024-01-03T00:00:00+00:00.\n"
        assert sorted(AuditEvent.objects.values_list("occurred_at", flat=True)) == [at(3), at(4)]

    def test_dry_run_only_counts(self) -> None:
        output = self.run_command("--before", "2024-01-04T00:00:00+00:00", "--dry-run")
        assert output == "Would delete 3 audit event(s) before 2024-01-04T00:00:00+00:00.\n"
        assert AuditEvent.objects.count() == 4

    def test_bad_date_is_a_command_error(self) -> None:
        with pytest.raises(CommandError, match="'yesterday', which is not a date"):
            self.run_command("--before", "yesterday")
        with pytest.raises(CommandError, match="--batch-size is 0"):
            self.run_command("--before", "2024-01-01", "--batch-size", "0")
