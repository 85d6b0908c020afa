"""The audit ``INSERT`` statements, compiled once per connection and row count."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from signalkit.models import AuditEvent

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field

#: The columns of an event row, in the order of the ``INSERT``'s parameters.
FIELDS = (
    "occurred_at",
    "action",
    "model_label",
    "object_pk",
    "object_repr",
    "changes",
    "actor_id",
    "actor_repr",
    "remote_addr",
    "correlation_id",
    "txid",
    "extra",
)

# The drivers whose parameter style is known: SQLite's qmark, psycopg's format.
_PLACEHOLDERS = {"sqlite": "?", "postgresql": "%s"}
# Rows per multi-row INSERT: enough to amortise a statement, few enough to keep
# the statement small (and under SQLite's old limit of 999 parameters).
_MAX_ROWS = 80
_CACHE = "_signalkit_audit_sql"
_COPY_CACHE = "_signalkit_audit_copy"


def native_allowed(connection: BaseDatabaseWrapper) -> bool:
    """Whether the driver's own cursor may write events: only when nothing observes
    queries (no ``DEBUG``, no debug cursor, no ``execute_wrapper``) and the driver's
    parameter style is known."""
    return not (
        connection.connection is None
        or connection.force_debug_cursor
        or connection.execute_wrappers
        or settings.DEBUG
        or connection.vendor not in _PLACEHOLDERS
    )


def rows_per_insert(connection: BaseDatabaseWrapper) -> int:
    """How many event rows one ``INSERT`` may carry on ``connection``."""
    return rows_for_limit(connection.features.max_query_params)


def rows_for_limit(max_query_params: int | None) -> int:
    """How many event rows fit in one statement under a limit of parameters."""
    if not max_query_params:
        return _MAX_ROWS
    return max(1, min(_MAX_ROWS, int(max_query_params) // len(FIELDS)))


def insert(connection: BaseDatabaseWrapper, rows: int, *, native: bool) -> str:
    """The ``INSERT`` of ``rows`` events, with Django's ``%s`` placeholders or, when
    ``native``, the driver's own."""
    cache: dict[tuple[int, bool], str] = connection.__dict__.setdefault(_CACHE, {})
    key = (rows, native)
    sql = cache.get(key)
    if sql is None:
        placeholder = _PLACEHOLDERS[connection.vendor] if native else "%s"
        values = "({})".format(", ".join([placeholder] * len(FIELDS)))
        sql = "INSERT INTO {} ({}) VALUES {}".format(
            *_target(connection), ", ".join([values] * rows)
        )
        if len(cache) >= 16:  # a handful of chunk sizes in practice
            cache.clear()
        cache[key] = sql
    return sql


def copy(connection: BaseDatabaseWrapper) -> str:
    """PostgreSQL's ``COPY ... FROM STDIN`` of event rows, in ``FIELDS`` order."""
    sql: str | None = connection.__dict__.get(_COPY_CACHE)
    if sql is None:
        sql = "COPY {} ({}) FROM STDIN".format(*_target(connection))
        connection.__dict__[_COPY_CACHE] = sql
    return sql


def _target(connection: BaseDatabaseWrapper) -> tuple[str, str]:
    quote = connection.ops.quote_name
    return (
        quote(str(AuditEvent._meta.db_table)),
        ", ".join(quote(str(field.column)) for field in _fields()),
    )


def _fields() -> list[Field[Any, Any]]:
    by_name = {field.name: field for field in AuditEvent._meta.concrete_fields}
    return [by_name[name] for name in FIELDS]
