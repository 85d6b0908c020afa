from __future__ import annotations

import datetime
import sqlite3
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from signalkit.models import AuditEvent


def at(day: int) -> datetime.datetime:
    return datetime.datetime(2024, 1, day, 12, tzinfo=datetime.UTC)


class NoAuditOn:
    """A router that keeps signalkit's tables off one database."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if app_label == "signalkit" and db == self.alias else None


class AuditPruneTests(TestCase):
    databases = {"default", "other"}

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

    def test_any_batch_size_fits_in_one_statement(self) -> None:
        # A list of keys per batch ran into the database's limit of parameters
        # ("too many SQL variables"); SQLite's can be lowered to show it.
        for day in (5, 6, 7, 8):
            AuditEvent.objects.create(action="custom", occurred_at=at(day))
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            limit = sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
            previous = connection.connection.setlimit(limit, 4)
            self.addCleanup(connection.connection.setlimit, limit, previous)
        with CaptureQueriesContext(connection) as queries:
            output = self.run_command("--before", "2024-01-08", "--batch-size", "100000")
        assert output.startswith("Deleted 7 audit event(s)")
        table = AuditEvent._meta.db_table
        assert max(len(query["sql"]) for query in queries if table in query["sql"]) < 400
        assert list(AuditEvent.objects.values_list("occurred_at", flat=True)) == [at(8)]

    def test_a_batch_size_past_the_databases_integers_deletes_everything_at_once(self) -> None:
        # The batch's edge is found with an OFFSET, a 64-bit integer in SQL.
        output = self.run_command("--before", "2024-01-04", "--batch-size", str(2**64))
        assert output.startswith("Deleted 3 audit event(s)")
        assert list(AuditEvent.objects.values_list("occurred_at", flat=True)) == [at(4)]

    def test_events_at_the_same_time_are_deleted_together(self) -> None:
        AuditEvent.objects.create(action="custom", occurred_at=at(1))
        output = self.run_command("--before", "2024-01-02", "--batch-size", "1")
        assert output.startswith("Deleted 2 audit event(s)")
        assert AuditEvent.objects.count() == 3

    def test_events_recorded_while_pruning_stay_whatever_the_date(self) -> None:
        # Writes go on while a prune runs: each DELETE is followed by a new event
        # (five at most). A date in the future deleted them too, batch after
        # batch, for as long as writes came.
        written: list[AuditEvent] = []

        def write_after_delete(execute: Any, sql: str, *args: Any) -> Any:
            result = execute(sql, *args)
            if sql.lstrip().upper().startswith("DELETE") and len(written) < 5:
                written.append(AuditEvent.objects.create(action="custom"))
            return result

        with connection.execute_wrapper(write_after_delete):
            output = self.run_command("--before", "2999-01-01", "--batch-size", "1")
        assert output.startswith("Deleted 4 audit event(s) before 2999-01-01")
        assert list(AuditEvent.objects.order_by("pk")) == written

    def test_dry_run_only_counts(self) -> None:
        output = self.run_command("--before", "2024-01-04T00:00:00+00:00", "--dry-run")
        assert output == "Would delete 3 audit event(s) before 2024-01-04T00:00:00+00:00.\n"
        assert AuditEvent.objects.count() == 4

    def test_bad_date_is_a_command_error(self) -> None:
        with pytest.raises(CommandError, match="'yesterday', which is not a date"):
            self.run_command("--before", "yesterday")
        with pytest.raises(CommandError, match="--batch-size is 0"):
            self.run_command("--before", "2024-01-01", "--batch-size", "0")

    def test_dates_given_to_call_command_as_objects(self) -> None:
        # call_command() passes keyword options as they are.
        out = StringIO()
        call_command("auditprune", before=datetime.date(2024, 1, 3), dry_run=True, stdout=out)
        assert out.getvalue() == "Would delete 2 audit event(s) before 2024-01-03T00:00:00+00:00.\n"
        with pytest.raises(CommandError, match="--before is 5, which is not a date"):
            call_command("auditprune", before=5)

    def test_unknown_database_is_a_command_error(self) -> None:
        with pytest.raises(CommandError, match="--database is 'nope', which is not in DATABASES"):
            self.run_command("--before", "2024-01-01", "--database", "nope")

    def test_a_database_the_routers_keep_the_log_off_is_a_command_error(self) -> None:
        with (
            override_settings(DATABASE_ROUTERS=[NoAuditOn("other")]),
            pytest.raises(CommandError, match="routers keep the audit log off 'other'"),
        ):
            self.run_command("--before", "2024-01-01", "--database", "other")

    def test_a_database_without_the_table_is_a_command_error(self) -> None:
        if not connections["other"].features.can_rollback_ddl:
            pytest.skip("the table is dropped in the test's transaction")
        with connections["other"].cursor() as cursor:
            cursor.execute(f"DROP TABLE {AuditEvent._meta.db_table}")
        with pytest.raises(CommandError, match="'other' has no audit log table"):
            self.run_command("--before", "2024-01-01", "--database", "other")

    def test_dates_the_database_cannot_store_are_a_command_error(self) -> None:
        with override_settings(TIME_ZONE="Asia/Tokyo"), pytest.raises(CommandError, match="0001"):
            self.run_command("--before", "0001-01-01")
        with pytest.raises(CommandError, match="9999"):
            self.run_command("--before", "9999-12-31T23:30:00-01:00")

    def test_offsets_postgresql_refuses_are_given_in_utc(self) -> None:
        # Python takes offsets up to 23:59; PostgreSQL's timestamptz refuses
        # anything past 15:59 (a DataError, not a CommandError).
        output = self.run_command("--before", "2024-01-03T16:00:00+16:00", "--dry-run")
        assert output == "Would delete 2 audit event(s) before 2024-01-03T00:00:00+00:00.\n"

    def test_without_time_zone_support(self) -> None:
        # An aware --before becomes naive (current time zone); SQLite refused it.
        with override_settings(USE_TZ=False):
            output = self.run_command("--before", "2024-01-03T00:00:00+00:00", "--dry-run")
            assert output == "Would delete 2 audit event(s) before 2024-01-03T00:00:00.\n"
            output = self.run_command("--before", "2024-01-04")
            assert output == "Deleted 3 audit event(s) before 2024-01-04T00:00:00.\n"

    def test_each_batch_is_found_through_the_time_index(self) -> None:
        # Ordered by primary key, every batch (and the last, empty one) scanned
        # the whole table.
        if connection.vendor != "sqlite":
            self.skipTest("reads SQLite's query plan")
        with CaptureQueriesContext(connection) as queries:
            self.run_command("--before", "2024-01-03")
        [select, *_] = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {select}")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "signalkit_audit_time" in plan
        assert "SCAN signalkit_auditevent" not in plan

    def time_index_range(self, sql: str) -> str:
        """How the plan of ``sql`` reads the time index (the whole plan)."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL enable_seqscan = off")  # (a table of four rows)
                cursor.execute(f"EXPLAIN {sql}")
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return " ".join(str(row[-1]) for row in cursor.fetchall())

    def test_each_batch_starts_where_the_previous_one_ended(self) -> None:
        # The rows a batch deletes stay in the time index until they are
        # vacuumed (PostgreSQL): read from the oldest event, each batch walked
        # past all of them again (a prune of 1.6 million events took a minute,
        # four times as long for twice the events).
        if connection.vendor not in ("sqlite", "postgresql"):
            self.skipTest("reads the query plan")
        with CaptureQueriesContext(connection) as queries:
            output = self.run_command("--before", "2024-01-05", "--batch-size", "1")
        assert output.startswith("Deleted 4 audit event(s)")
        table = AuditEvent._meta.db_table
        statements = [q["sql"] for q in queries if table in q["sql"]]
        # A SELECT (the batch's edge) and a DELETE per event, then an empty batch.
        later = statements[2:10]
        assert [sql.split()[0] for sql in later] == ["SELECT", "DELETE"] * 4
        bound = "occurred_at>?" if connection.vendor == "sqlite" else "(occurred_at > '"
        for sql in later:
            plan = self.time_index_range(sql)
            assert "signalkit_audit_time" in plan, plan
            assert bound in plan, plan

    def test_events_committed_behind_the_batches_are_deleted(self) -> None:
        # An event whose time was taken before the prune, committed once the
        # batches have passed that time: a second pass from the oldest finds it.
        late: list[AuditEvent] = []

        def commit_late(execute: Any, sql: str, *args: Any) -> Any:
            result = execute(sql, *args)
            if sql.lstrip().upper().startswith("DELETE") and not late:
                late.append(AuditEvent.objects.create(action="custom", occurred_at=at(1)))
            return result

        with connection.execute_wrapper(commit_late):
            output = self.run_command("--before", "2024-01-05", "--batch-size", "1")
        assert output.startswith("Deleted 5 audit event(s)")
        assert late
        assert not AuditEvent.objects.exists()
