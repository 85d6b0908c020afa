"""The audit ``INSERT`` statements, compiled once per connection and row count, and
how event rows are prepared and executed with them."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.backends.base.operations import BaseDatabaseOperations

from signalkit.audit import packets
from signalkit.audit.serialize import dumps
from signalkit.models import AuditEvent

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field

    from signalkit.audit.events import Event

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


def execute(
    cursor: Any, connection: BaseDatabaseWrapper, rows: list[tuple[Any, ...]], *, native: bool
) -> None:
    if len(rows) == 1:
        cursor.execute(insert(connection, 1, native=native), rows[0])
        return
    if native and hasattr(cursor, "copy"):
        # psycopg 3: COPY. It parses the placeholders of a long statement on
        # every execute (it caches short ones only), which costs more than the
        # rows; COPY streams them, and row triggers still fire.
        with cursor.copy(copy(connection)) as stream:
            for row in rows:
                stream.write_row(row)
        return
    # Many rows per statement: a statement per row costs the server more than
    # the rows themselves (PostgreSQL runs its executor once per statement).
    size = rows_per_insert(connection)
    if packets.applies(connection):
        # MySQL and MariaDB: also no more bytes than a statement may have.
        chunks: Iterable[list[tuple[Any, ...]]] = packets.chunks(connection, rows, size)
    else:
        chunks = (rows[start : start + size] for start in range(0, len(rows), size))
    for chunk in chunks:
        sql = insert(connection, len(chunk), native=native)
        cursor.execute(sql, [value for row in chunk for value in row])


def row_maker(connection: BaseDatabaseWrapper) -> Callable[[Event], tuple[Any, ...]]:
    """A function turning an event into the INSERT's parameters, in ``FIELDS`` order."""
    maker: Callable[[Event], tuple[Any, ...]] | None = connection.__dict__.get(
        "_signalkit_audit_row"
    )
    if maker is None:
        ops = connection.ops
        adapt_datetime = ops.adapt_datetimefield_value
        adapt_address = ops.adapt_ipaddressfield_value
        adapt_json: Callable[[Any, Any], Any] = ops.adapt_json_value
        if type(ops).adapt_json_value is BaseDatabaseOperations.adapt_json_value:
            # Django's own json.dumps(value, cls=None), without its per-call setup.
            def adapt_json(value: Any, encoder: Any) -> Any:
                return dumps(value)

        empty = adapt_json({}, None)

        # Every other column is a CharField holding a str already (see build()).
        if connection.vendor == "sqlite":
            sqlite_datetime = adapt_datetime

            def adapt_datetime(value: Any) -> Any:
                # timezone.now() in UTC on a UTC connection: what make_naive() and
                # str() give ("YYYY-MM-DD HH:MM:SS[.ffffff]"), without the copy.
                if value.tzinfo is datetime.UTC and connection.timezone is datetime.UTC:
                    return value.isoformat(" ")[:-6]
                return sqlite_datetime(value)

        def maker(event: Event) -> tuple[Any, ...]:
            address = event.remote_addr
            return (
                adapt_datetime(event.occurred_at),
                event.action,
                event.model_label,
                event.object_pk,
                event.object_repr,
                adapt_json(event.changes, None) if event.changes else empty,
                event.actor_id,
                event.actor_repr,
                None if address is None else adapt_address(address),
                event.correlation_id,
                event.txid,
                adapt_json(event.extra, None) if event.extra else empty,
            )

        connection.__dict__["_signalkit_audit_row"] = maker
    return maker
