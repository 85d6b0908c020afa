from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection
from django.test import TestCase

import signalkit.audit as audit
from tests.audit_utils import audited, events
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
        assert any("signalkit_auditevent" in sql for sql in seen)
        assert len(events(action="create")) == 1

    def test_the_insert_is_one_of_the_captured_queries(self) -> None:
        account = Account.objects.create(name="a")
        account.name = "b"
        with self.assertNumQueries(2):
            account.save()
        assert [event.changes for event in events(action="update")] == [{"name": ["a", "b"]}]
