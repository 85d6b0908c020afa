"""Audit statements that fit MySQL's and MariaDB's ``max_allowed_packet``.

The server refuses a statement larger than ``max_allowed_packet`` by closing the
connection: the transaction of the audited change is lost with it, whatever
``ON_ERROR`` says, and the next query fails. An event can outgrow a statement
its change fitted in (it holds the old and the new value, as JSON, where
non-ASCII text takes six bytes a character and binary data a third more), and
rows that each fit can outgrow it together. So on those databases events are
written in statements that fit, and a value that cannot fit in any is replaced
by :data:`TOO_LARGE`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from django.db.backends.base.base import BaseDatabaseWrapper

    from signalkit.audit.events import Event
    from signalkit.models import AuditEvent

#: What a value too large to be written stands for ({size}: the bytes of its JSON).
TOO_LARGE = "[too large: {size} bytes]"

# Below any server's default max_allowed_packet (4 MiB on MySQL 5.7, 16 MiB on
# MySQL 8 and MariaDB 10.2+): statements under it are sent without asking.
FLOOR = 1 << 20
# The statement's text around its rows (table, columns, VALUES), with room to spare.
HEAD = 1024
# What the drivers escape with a backslash in a string literal.
_ESCAPED = ("\\", "'", '"', "\n", "\r", "\x00", "\x1a")
_LIMIT = "_signalkit_audit_packet"


def applies(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "mysql"


def value_size(value: Any) -> int:
    """At least the bytes ``value`` takes as a parameter of the statement."""
    if type(value) is not str:
        return 32  # None, a number, a datetime
    length = len(value)
    if length <= 256:
        return 8 * length + 2  # four bytes a character, each escaped: never less
    return _text_size(value)


def _text_size(text: str) -> int:
    """The bytes ``text`` takes as a string literal of the statement."""
    size = len(text) if text.isascii() else len(text.encode())
    return size + sum(text.count(char) for char in _ESCAPED) + 2


def row_size(row: tuple[Any, ...]) -> int:
    return sum(map(value_size, row)) + 2 * len(row)


def limit(connection: BaseDatabaseWrapper) -> int:
    """The largest statement the server takes on this connection (asked once per
    connection, only for statements over :data:`FLOOR`)."""
    cached = connection.__dict__.get(_LIMIT)
    if cached is not None and cached[0] is connection.connection:
        return int(cached[1])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT @@max_allowed_packet")
            found = cursor.fetchone()
        value = int(found[0]) if found else FLOOR
    except (DatabaseError, TypeError, ValueError):
        value = FLOOR
    connection.__dict__[_LIMIT] = (connection.connection, value)
    return value


def fit(
    connection: BaseDatabaseWrapper,
    events: list[Event] | list[AuditEvent],
    row: Callable[[Event], tuple[Any, ...]],
) -> list[tuple[Any, ...]]:
    """The rows of ``events`` (made by ``row``). On MySQL and MariaDB each is
    small enough for a statement: the largest values of an event that is not
    are replaced by :data:`TOO_LARGE` (in the event too, and its row made again)."""
    # (An AuditEvent has the attributes of an Event: the row gives its size.)
    rows = [row(event) for event in events]  # type: ignore[arg-type]
    if not applies(connection):
        return rows
    for index, made in enumerate(rows):
        size = row_size(made)
        if size + HEAD <= FLOOR:
            continue
        room = limit(connection) - HEAD
        if size > room:
            shrink(events[index], room - (size - _json_size(events[index])))
            rows[index] = row(events[index])  # type: ignore[arg-type]
    return rows


def chunks(
    connection: BaseDatabaseWrapper, rows: list[tuple[Any, ...]], most: int
) -> Iterator[list[tuple[Any, ...]]]:
    """``rows`` in chunks of at most ``most`` rows, each chunk one statement that
    the server takes."""
    sizes = [row_size(made) for made in rows]
    room = limit(connection) - HEAD if sum(sizes) + HEAD > FLOOR else FLOOR
    chunk: list[tuple[Any, ...]] = []
    used = 0
    for made, size in zip(rows, sizes, strict=True):
        if chunk and (len(chunk) == most or used + size > room):
            yield chunk
            chunk, used = [], 0
        chunk.append(made)
        used += size
    if chunk:
        yield chunk


def shrink(event: Event | AuditEvent, room: int) -> None:
    """Replace the largest values of ``event``'s ``changes`` and ``extra`` (a
    save's old and new values one by one) by :data:`TOO_LARGE` until both take
    ``room`` bytes at most."""
    data = {"changes": dict(event.changes or {}), "extra": dict(event.extra or {})}
    values: list[tuple[int, int, str, str, int | None]] = []
    for name, items in data.items():
        for key, value in items.items():
            if name == "changes" and type(value) is list and len(value) == 2:
                values += [(*_sizes(item), name, key, index) for index, item in enumerate(value)]
            else:
                values.append((*_sizes(value), name, key, None))
    total = _size(data["changes"]) + _size(data["extra"])
    for size, length, name, key, index in sorted(values, key=lambda value: -value[0]):
        if total <= room:
            break
        marker = TOO_LARGE.format(size=length)
        if index is None:
            data[name][key] = marker
        else:
            pair = list(data[name][key])
            pair[index] = marker
            data[name][key] = pair
        total -= size - _size(marker)
    event.changes, event.extra = data["changes"], data["extra"]


def _size(value: Any) -> int:
    # (Not value_size(): its bound for a short string is eight times its bytes,
    # and counting short values so would take more off the total than they free.)
    return _text_size(json.dumps(value))


def _sizes(value: Any) -> tuple[int, int]:
    """What ``value`` takes in the statement, and the length of its JSON."""
    text = json.dumps(value)
    return _text_size(text), len(text.encode())


def _json_size(event: Event | AuditEvent) -> int:
    return _size(event.changes or {}) + _size(event.extra or {})
