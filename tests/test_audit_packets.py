from __future__ import annotations

import json
import unittest

from django.db import connection, transaction
from django.test import SimpleTestCase, TestCase

from signalkit.audit import record
from signalkit.audit.events import Event
from signalkit.audit.packets import TOO_LARGE, shrink, value_size
from tests.audit_utils import audited, events
from tests.auditapp.models import Login

AUDITED = {"auditapp.Login": {"unmask": ["private_key"]}}


def max_allowed_packet() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@max_allowed_packet")
        return int(cursor.fetchone()[0])


def too_large(value: object) -> str:
    return TOO_LARGE.format(size=len(json.dumps(value)))


@unittest.skipUnless(connection.vendor == "mysql", "MySQL's and MariaDB's max_allowed_packet")
@audited(MODELS=AUDITED)
class PacketTests(TestCase):
    """An event larger than a statement may be is written with its largest
    values replaced, in its change's transaction, which goes on: the server
    would close the connection (and lose the transaction) instead."""

    def huge(self, char: str = "é") -> str:
        # Fits the user's own statement (two bytes a character), but not as JSON
        # (six: "\\u00e9").
        return char * (max_allowed_packet() // 5)

    def test_a_value_too_large_for_a_statement_is_recorded_as_too_large(self) -> None:
        value = self.huge()
        login = Login.objects.create(name="a", private_key=value)
        assert [e.changes for e in events()] == [
            {"name": [None, "a"], "passwd": [None, ""], "private_key": [None, too_large(value)]}
        ]
        assert Login.objects.get(pk=login.pk).private_key == value

    def test_an_update_records_each_value_too_large_as_too_large(self) -> None:
        old, new = self.huge(), self.huge("ü")
        login = Login.objects.create(name="a", private_key=old)
        login.private_key, login.name = new, "b"
        login.save()
        assert events(action="update")[0].changes == {
            "name": ["a", "b"],
            "private_key": [too_large(old), too_large(new)],
        }

    def test_events_that_fit_alone_are_written_in_statements_that_fit(self) -> None:
        value = "x" * (max_allowed_packet() // 40)
        with transaction.atomic():
            for index in range(60):  # one and a half packets in all
                Login.objects.create(name=str(index), private_key=value)
        assert [e.changes["private_key"] for e in events()] == [[None, value]] * 60

    def test_a_custom_events_value_too_large_is_recorded_as_too_large(self) -> None:
        login = Login.objects.create(name="a")
        value = self.huge()
        event = record("imported", login, changes={"rows": 3, "payload": value}, note="x")
        assert event.changes == {"rows": 3, "payload": too_large(value)}
        assert events(action="imported")[0].changes == event.changes
        assert events(action="imported")[0].extra == {"note": "x"}

    def test_with_on_error_log_nothing_is_lost_and_nothing_logged(self) -> None:
        value = self.huge()
        with audited(MODELS=AUDITED, ON_ERROR="log"), self.assertNoLogs("signalkit.audit"):
            with transaction.atomic():
                Login.objects.create(name="a", private_key=value)
                Login.objects.create(name="b")
            recorded = events()  # (written now, inside the test's transaction)
        assert [e.changes["name"] for e in recorded] == [[None, "a"], [None, "b"]]
        assert Login.objects.count() == 2


class ShrinkTests(SimpleTestCase):
    def event(self, changes: dict[str, object], extra: dict[str, object]) -> Event:
        return Event(changes=changes, extra=extra)

    def test_the_largest_values_go_first_and_only_as_many_as_needed(self) -> None:
        event = self.event({"a": ["x" * 1000, "y" * 5000], "b": [None, 1]}, {"c": "z" * 3000})
        shrink(event, 5000)
        assert event.changes == {"a": ["x" * 1000, too_large("y" * 5000)], "b": [None, 1]}
        assert event.extra == {"c": "z" * 3000}

    def test_values_other_than_pairs_are_replaced_whole(self) -> None:
        links = {"add": list(range(2000))}
        event = self.event({"tags": links}, {"c": "z" * 3000})
        shrink(event, 100)
        assert event.changes == {"tags": too_large(links)}
        assert event.extra == {"c": too_large("z" * 3000)}

    def test_the_events_own_dicts_are_not_changed_in_place(self) -> None:
        changes: dict[str, object] = {"a": [None, "y" * 5000]}
        shrink(self.event(changes, {}), 100)
        assert changes == {"a": [None, "y" * 5000]}

    def test_many_short_values_are_replaced_until_the_event_fits(self) -> None:
        # (A custom event with many keys: each value is small, the event is not.)
        event = self.event({f"k{index}": "x" * 200 for index in range(100)}, {})
        shrink(event, 10_000)
        assert len(json.dumps(event.changes)) <= 10_000

    def test_a_sizes_estimate_counts_escapes(self) -> None:
        # A driver escapes quotes and backslashes: '"' * n takes 2 * n bytes.
        assert value_size('"' * 1000) >= 2000
        assert value_size("é" * 1000) >= 2000
        assert value_size("é" * 10) >= len(("é" * 10).encode()) * 2
