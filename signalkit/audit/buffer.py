"""``batch()``: buffer a block's events and write them with one bulk insert."""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from signalkit.audit import hooks
from signalkit.audit.pending import write_waiting
from signalkit.audit.serialize import MASKED, same_json

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.db.backends.base.base import BaseDatabaseWrapper

    from signalkit.audit.hooks import Marker
    from signalkit.audit.writer import Event

_MERGEABLE = frozenset({"create", "update"})


class Buffer:
    def __init__(self, using: str) -> None:
        self.using = using
        # The block's connection: this thread's (Django's connections are per thread).
        self.connection = connections[using]
        self.events: list[tuple[Marker, Event]] = []
        self.latest: dict[tuple[str, str], tuple[Marker, Event]] = {}

    def add(self, event: Event, connection: BaseDatabaseWrapper) -> None:
        marker = hooks.marker(connection)
        key = (event.model_label, event.object_pk)
        previous = self.latest.get(key)
        if (
            event.action == "update"
            and previous is not None
            and previous[1].action in _MERGEABLE
            and _same_context(previous[1], event)
            # No savepoint that could roll back one change and not the other.
            and (previous[0] is marker or hooks.same_fate(connection, previous[0]))
        ):
            _merge(previous[1], event)
            return
        self.events.append((marker, event))
        if event.model_label and event.object_pk:
            self.latest[key] = (marker, event)

    def flush(self) -> None:
        from signalkit.audit.writer import write

        alive = hooks.alive_test(self.connection)
        events = [
            event
            for marker, event in self.events
            if (event.changes or event.action != "update") and alive(marker)
        ]
        self.events.clear()
        self.latest.clear()
        if events:
            # Events that wait for the commit were made first: ids follow the changes.
            write_waiting(self.using)
            write(events, self.using)


def _same_context(one: Event, other: Event) -> bool:
    """Whether two events carry the same actor and request data: changes made by
    different actors are never merged into one event."""
    return (
        one.actor_id == other.actor_id
        and one.actor_repr == other.actor_repr
        and one.remote_addr == other.remote_addr
        and one.correlation_id == other.correlation_id
        and one.extra == other.extra
    )


def _merge(into: Event, event: Event) -> None:
    changes: dict[str, Any] = into.changes
    for name, value in event.changes.items():
        if name in changes and isinstance(value, list) and isinstance(changes[name], list):
            first = changes[name]
            if first[1] != value[0] and value[1] == first[0]:
                # The later event's change came first: a save nested in
                # another (by a receiver) has its event written before the
                # outer save's.
                changes[name] = [value[0], first[1]]
            else:
                changes[name] = [first[0], value[1]]
        else:
            changes[name] = value
    if into.action == "update":
        from signalkit.audit.receivers import json_fields

        strict = json_fields(into.model_label)
        for name in [name for name, value in changes.items() if _unchanged(value, name in strict)]:
            del changes[name]
    into.object_repr = event.object_repr


def _unchanged(value: Any, strict: bool) -> bool:
    # Compared as the column stores them: a JSON field's 1 and True differ, a
    # boolean column's do not. A masked value is never known to be unchanged.
    if not (isinstance(value, list) and len(value) == 2) or value[0] == MASKED:
        return False
    return same_json(value[0], value[1]) if strict else bool(value[0] == value[1])


_buffers: ContextVar[dict[str, Buffer] | None] = ContextVar("signalkit_audit_batch", default=None)


def buffer_for(using: str, connection: BaseDatabaseWrapper) -> Buffer | None:
    """The enclosing :func:`batch` buffer of ``using``, if it is this thread's:
    another thread (a copied context) has its own connection and transaction."""
    buffers = _buffers.get()
    buffer = None if buffers is None else buffers.get(using)
    return buffer if buffer is not None and buffer.connection is connection else None


@contextlib.contextmanager
def batch(using: str | None = None) -> Iterator[None]:
    """Run the block in a transaction and write its audit events with one bulk insert.

    Events of inner savepoints that rolled back are dropped; repeated saves of
    one object are coalesced into one event. Nested ``batch()`` blocks share
    the outermost buffer.
    """
    alias = using or DEFAULT_DB_ALIAS
    buffers = _buffers.get() or {}
    if alias in buffers:
        with transaction.atomic(using=alias):
            yield
        return
    buffer = Buffer(alias)
    token = _buffers.set({**buffers, alias: buffer})
    try:
        with transaction.atomic(using=alias):
            yield
            if not connections[alias].needs_rollback:  # set_rollback(True): nothing to keep
                buffer.flush()
    finally:
        _buffers.reset(token)
