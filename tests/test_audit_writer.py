from __future__ import annotations

import asyncio
import contextvars
import datetime
import threading
import zoneinfo
from typing import TYPE_CHECKING, Any
from unittest import mock

from django.db import connection, connections
from django.db.backends.base.operations import BaseDatabaseOperations
from django.test import SimpleTestCase, TestCase, override_settings
from django.test.utils import CaptureQueriesContext

import signalkit.audit as audit
from signalkit.audit import statements
from signalkit.audit.buffer import connection_of
from signalkit.audit.events import build
from signalkit.audit.pending import write_waiting
from tests.audit_utils import (
    audit_inserts,
    audited,
    close_thread_connections,
    events,
    queries_with_log,
    quoted,
)
from tests.auditapp.models import Account

if TYPE_CHECKING:
    from collections.abc import Callable


@audited()
class WriterTests(TestCase):
    def test_every_column_is_written_in_its_place(self) -> None:
        with audit.context("alice", remote_addr="10.0.0.7", correlation_id="c-1", source="api"):
            account = Account.objects.create(name="a")
        [event] = events(action="create")
        assert (event.model_label, event.object_pk, event.object_repr) == (
            "auditapp.Account",
            str(account.pk),
            "a",
        )
        assert event.changes["name"] == [None, "a"]
        assert (event.actor_id, event.actor_repr) == ("", "alice")
        assert (event.remote_addr, event.correlation_id) == ("10.0.0.7", "c-1")
        assert event.extra == {"source": "api"}
        assert len(event.txid) == 32
        assert event.occurred_at is not None

    def test_execute_wrappers_see_the_insert(self) -> None:
        seen: list[str] = []

        def wrapper(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
            seen.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(wrapper):
            Account.objects.create(name="a")
            write_waiting(connection.alias)
        assert any("signalkit_auditevent" in sql for sql in seen)
        assert len(events(action="create")) == 1

    def test_the_insert_is_one_of_the_captured_queries(self) -> None:
        account = Account.objects.create(name="a")
        account.name = "b"
        with queries_with_log() as queries:
            account.save()
        assert [query["sql"].split()[:3] for query in queries] == [
            ["UPDATE", quoted("auditapp_account"), "SET"],
            ["INSERT", "INTO", quoted("signalkit_auditevent")],
        ]
        assert [event.changes for event in events(action="update")] == [{"name": ["a", "b"]}]


@audited()
class ManyRowsTests(TestCase):
    def create_in_batch(self) -> list[Account]:
        # More events than one INSERT carries, so the last statement is shorter.
        count = 2 * statements.rows_per_insert(connection) + 3
        with audit.batch():
            return [Account.objects.create(name=f"n{n}") for n in range(count)]

    def assert_every_event_in_order(self, accounts: list[Account]) -> None:
        written = events(action="create")
        assert [event.object_pk for event in written] == [str(a.pk) for a in accounts]
        assert [event.changes["name"][1] for event in written] == [a.name for a in accounts]
        assert len({event.txid for event in written}) == 1

    def test_through_the_driver_cursor(self) -> None:
        self.assert_every_event_in_order(self.create_in_batch())

    def test_through_django_cursor(self) -> None:
        with CaptureQueriesContext(connection) as queries:
            accounts = self.create_in_batch()
        assert audit_inserts(queries) == 3
        self.assert_every_event_in_order(accounts)

    def test_awkward_values_survive_the_bulk_write(self) -> None:
        # On PostgreSQL the rows travel as COPY text: escapes must round-trip.
        names = ["tab\there", "line\nbreak", "back\\slash", "\\N", "quote'\"", "ünï ✓", ""]
        with audit.context("bob", remote_addr="::1", note="a\tb"), audit.batch():
            accounts = [Account.objects.create(name=name, data={"k": name}) for name in names]
        written = events(action="create")
        assert [event.object_repr for event in written] == names
        assert [event.changes["data"][1] for event in written] == [{"k": name} for name in names]
        assert {(e.remote_addr, e.actor_repr, e.extra["note"]) for e in written} == {
            ("::1", "bob", "a\tb")
        }
        assert [event.object_pk for event in written] == [str(a.pk) for a in accounts]


class RowTests(TestCase):
    """The INSERT's parameters are what Django's own adapters give."""

    def row(self, **values: Any) -> tuple[Any, ...]:
        event = build("update", using="default", model_label="a.B", object_pk=1, **values)
        return statements.row_maker(connections["default"])(event)

    def test_timestamps_as_django_adapts_them(self) -> None:
        adapt = connection.ops.adapt_datetimefield_value
        for moment in (
            datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
            datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),  # no microseconds
            datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
        ):
            with mock.patch("django.utils.timezone.now", return_value=moment):
                occurred_at = self.row()[0]
            assert occurred_at == adapt(moment)

    def test_json_as_django_adapts_it(self) -> None:
        if type(connection.ops).adapt_json_value is not BaseDatabaseOperations.adapt_json_value:
            self.skipTest("the backend adapts JSON its own way, and the row uses it")
        changes = {"name": ["é", "b\n"], "n": [1.5, None], "flag": [True, False]}
        row = self.row(changes=changes, extra={"k": [1]})
        assert row[5] == connection.ops.adapt_json_value(changes, None)
        assert row[11] == connection.ops.adapt_json_value({"k": [1]}, None)


class RowsPerInsertTests(SimpleTestCase):
    def test_follows_the_parameter_limit(self) -> None:
        per_row = len(statements.FIELDS)
        assert statements.rows_for_limit(3 * per_row + 1) == 3
        assert statements.rows_for_limit(per_row - 1) == 1
        assert statements.rows_for_limit(60 * per_row + per_row - 1) == 60
        assert statements.rows_for_limit(None) == statements.rows_for_limit(10**6) > 3


class ConnectionOfTests(TestCase):
    """The audit's receivers take a batch()'s connection without looking it up,
    only where it is the connection Django would give."""

    def test_inside_a_batch_it_is_the_threads_connection(self) -> None:
        with audit.batch():
            assert connection_of("default") is connections["default"]
            assert connection_of("other") is connections["other"]  # no batch on it
        assert connection_of("default") is connections["default"]

    def test_a_thread_with_a_copy_of_the_batchs_context_gets_its_own(self) -> None:
        found: list[Any] = []

        def work() -> None:
            try:
                found.append((connection_of("default"), connections["default"]))
            finally:
                close_thread_connections()

        with audit.batch():
            thread = threading.Thread(target=contextvars.copy_context().run, args=(work,))
            thread.start()
            thread.join()
        [(given, own)] = found
        assert given is own
        assert given is not connections["default"]

    def test_an_event_loop_in_the_batchs_thread_gets_djangos(self) -> None:
        # With a running loop, Django's connections follow the async context.
        async def look() -> tuple[Any, Any]:
            return connection_of("default"), connections["default"]

        with audit.batch():
            given, djangos = asyncio.run(look())
        try:
            assert given is djangos
            assert given is not connections["default"]
        finally:
            given.close()


@audited()
class OccurredAtTests(TestCase):
    """``occurred_at`` is ``timezone.now()``, whose ``USE_TZ`` the receivers read
    from the connection."""

    def test_aware_with_time_zone_support(self) -> None:
        before = datetime.datetime.now(datetime.UTC)
        with audit.batch():
            Account.objects.create(name="a")
        [event] = events(action="create")
        assert event.occurred_at.tzinfo is not None
        assert before <= event.occurred_at <= datetime.datetime.now(datetime.UTC)

    def test_naive_without_it(self) -> None:
        # Django drops the connection's cached time zone when USE_TZ changes.
        with override_settings(USE_TZ=False):
            before = datetime.datetime.now()
            with audit.batch():
                Account.objects.create(name="a")
            [event] = events(action="create")
            assert event.occurred_at.tzinfo is None
            assert before <= event.occurred_at <= datetime.datetime.now()

    def test_a_patched_timezone_now_is_used(self) -> None:
        moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
        with mock.patch("django.utils.timezone.now", return_value=moment), audit.batch():
            Account.objects.create(name="a")
        [event] = events(action="create")
        assert event.occurred_at == moment
