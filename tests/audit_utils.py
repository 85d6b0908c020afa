from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from signalkit.audit.pending import write_waiting
from signalkit.models import AuditEvent

if TYPE_CHECKING:
    from collections.abc import Iterator

AUDITED: dict[str, Any] = {
    "AUDIT": {
        "MODELS": {
            "auditapp.Account": {"mask": ["blob"]},
            "auditapp.Note": {},
            "auditapp.Ticket": {},
            "auditapp.Token": {},
            "auth.User": {},
        }
    }
}


def audited(**audit: Any) -> Any:
    """override_settings with the test models audited (plus ``audit`` keys)."""
    return override_settings(SIGNALKIT={"AUDIT": {**AUDITED["AUDIT"], **audit}})


def close_thread_connections() -> None:
    """Close the calling thread's connections, SQLite's in-memory ones too: Django
    keeps those open (closing the last one would drop the database), and an
    unclosed one is a ResourceWarning later. The test's own connection keeps the
    database alive."""
    for conn in connections.all(initialized_only=True):
        in_memory = getattr(conn, "is_in_memory_db", lambda: False)()  # SQLite's only
        if in_memory and conn.connection is not None:
            conn.connection.close()
            conn.connection = None
        else:
            conn.close()


def run_sql(sql: str, *params: Any, using: str = DEFAULT_DB_ALIAS) -> None:
    """Raw SQL: a change no instance sees, as if another process made it."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)


def events(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("pk"))


@contextlib.contextmanager
def queries_with_log(using: str = DEFAULT_DB_ALIAS) -> Iterator[CaptureQueriesContext]:
    """The block's queries, plus the INSERT of the audit events it left waiting
    for the (test's) transaction to commit: what the block costs in the end."""
    with CaptureQueriesContext(connections[using]) as queries:
        yield queries
        write_waiting(using)


def quoted(table: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """``table`` quoted as the database quotes it in queries."""
    return connections[using].ops.quote_name(table)


def audit_inserts(queries: CaptureQueriesContext) -> int:
    """How many of ``queries`` insert audit events."""
    insert = f"INSERT INTO {quoted('signalkit_auditevent', queries.connection.alias)}"
    return sum(insert in query["sql"] for query in queries)
