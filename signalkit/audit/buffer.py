"""``batch()``: buffer a block's events and write them with one bulk insert."""

from __future__ import annotations

import contextlib
import threading
from asyncio import _get_running_loop
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import django
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from signalkit.audit import hooks
from signalkit.audit.audited import plan_of
from signalkit.audit.compare import same_value
from signalkit.audit.pending import write_waiting
from signalkit.audit.serialize import MASKED, same_json

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.db.backends.base.base import BaseDatabaseWrapper

    from signalkit.audit.events import Event
    from signalkit.audit.hooks import Marker
    from signalkit.audit.plans import ModelPlan

_MERGEABLE = frozenset({"create", "update"})


class Buffer:
    def __init__(self, using: str) -> None:
        self.using = using
        # The block's connection: this thread's (Django's connections are per thread).
        self.connection = connections[using]
        self.thread = threading.get_ident()
        self.events: list[tuple[Marker, Event]] = []
        # Per object: its newest event, the highest number of the saves of its
        # events (None: none had one), and whether later events may merge into it.
        self.latest: dict[tuple[str, str], tuple[Marker, Event, int | None, bool]] = {}
        # Set once the block is done: a context copied inside it (an on_commit
        # receiver's, send_on_commit's) still holds the buffer at the commit,
        # where what it records must be written, not buffered unflushed.
        self.closed = False

    def add(
        self,
        event: Event,
        connection: BaseDatabaseWrapper,
        started: int | None = None,
        *,
        nested: bool = False,
    ) -> None:
        """Buffer ``event``. ``started``: the number of the save it records (see
        :mod:`signalkit.audit.saves`): saves number as they start. ``nested``:
        another save of the object is in progress, which this one may have
        preceded (a ``pre_save`` receiver's) or followed (a ``post_save``
        receiver's). Events of such saves, and of saves that started before one
        whose event came already, are kept apart, and nothing merges into them:
        merged in the order they come, changes could be recorded in the wrong
        order."""
        marker = hooks.marker(connection)
        key = (event.model_label, event.object_pk)
        previous = self.latest.get(key)
        newest = None if previous is None else previous[2]
        late = started is not None and newest is not None and started < newest
        if started is not None and (newest is None or started > newest):
            newest = started
        if (
            previous is not None
            and previous[3]
            and event.action == "update"
            and not nested
            and not late
            and previous[1].action in _MERGEABLE
            and _same_context(previous[1], event)
            # No savepoint that could roll back one change and not the other.
            and (previous[0] is marker or hooks.same_fate(connection, previous[0]))
        ):
            _merge(previous[1], event, connection)
            self.latest[key] = (previous[0], previous[1], newest, True)
            return
        self.events.append((marker, event))
        if event.model_label and event.object_pk:
            self.latest[key] = (marker, event, newest, not (nested or late))

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


def _merge(into: Event, event: Event, connection: BaseDatabaseWrapper) -> None:
    changes: dict[str, Any] = into.changes
    for name, value in event.changes.items():
        if name in changes and isinstance(value, list) and isinstance(changes[name], list):
            changes[name] = [changes[name][0], value[1]]
        else:
            changes[name] = value
    plan = plan_of(into.model_label)
    generated = plan.generated if plan is not None else frozenset()
    if (
        into.action == "create"
        and generated
        and event.changes
        and not _gives_generated_back(connection)
    ):
        # The update may have changed what a generated field is computed from,
        # and its new value is not known: the create's is no longer the row's.
        for name in generated:
            changes.pop(name, None)
    if into.action == "update":
        attnames = {name: attname for name, attname, _ in plan.encoders} if plan else {}
        for name in [
            name
            for name, value in changes.items()
            if _unchanged(value, plan, attnames.get(name, name))
        ]:
            del changes[name]
    into.object_repr = event.object_repr


def _gives_generated_back(connection: BaseDatabaseWrapper) -> bool:
    """Whether an update's events carry the generated values it changed: Django
    6, where an UPDATE returns values."""
    return django.VERSION >= (6,) and bool(connection.features.can_return_rows_from_update)


def _unchanged(value: Any, plan: ModelPlan | None, attname: str) -> bool:
    # Compared as the column stores them, as a single save compares (see
    # compare.same_value): a JSON field's 1 and True differ; a foreign key's 1
    # and "1", or one instant in two time zones, do not. A masked value is never
    # known to be unchanged.
    if not (isinstance(value, list) and len(value) == 2) or value[0] == MASKED:
        return False
    if plan is None:
        return bool(value[0] == value[1])
    if attname in plan.strict:
        return same_json(value[0], value[1])
    return same_value(value[0], value[1], plan, attname)


_buffers: ContextVar[dict[str, Buffer] | None] = ContextVar("signalkit_audit_batch", default=None)


def buffer_for(using: str, connection: BaseDatabaseWrapper) -> Buffer | None:
    """The enclosing :func:`batch` buffer of ``using``, if it is this thread's:
    another thread (a copied context) has its own connection and transaction."""
    buffers = _buffers.get()
    buffer = None if buffers is None else buffers.get(using)
    if buffer is None or buffer.closed or buffer.connection is not connection:
        return None
    return buffer


def connection_of(using: str) -> BaseDatabaseWrapper:
    """``connections[using]``, taken from this thread's enclosing :func:`batch`
    when there is one: the lookup costs some 10,000 machine instructions, more
    than 1 % of a plain update (asgiref asks asyncio for a running loop, which
    raises without one). In a thread without an event loop, Django's connection
    is the thread's, so the block's connection is still it."""
    return enclosing(using)[0]


def enclosing(using: str) -> tuple[BaseDatabaseWrapper, Buffer | None]:
    """:func:`connection_of` and :func:`buffer_for` that connection, found at once
    (an audited save needs both)."""
    buffers = _buffers.get()
    if buffers is not None:
        buffer = buffers.get(using)
        if (
            buffer is not None
            and not buffer.closed
            and buffer.thread == threading.get_ident()
            and _get_running_loop() is None
        ):
            return buffer.connection, buffer
    connection = connections[using]
    return connection, buffer_for(using, connection)


@contextlib.contextmanager
def batch(using: str | None = None) -> Iterator[None]:
    """Run the block in a transaction and write its audit events with one bulk insert.

    Events of inner savepoints that rolled back are dropped; repeated saves of
    one object are coalesced into one event. Nested ``batch()`` blocks share
    the outermost buffer.
    """
    alias = using or DEFAULT_DB_ALIAS
    buffers = _buffers.get() or {}
    # A closed buffer (held by the copied context of an on_commit callback) or
    # another thread's encloses nothing: this block gets a buffer of its own.
    if buffer_for(alias, connections[alias]) is not None:
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
            # Before the commit, whose on_commit callbacks may record events.
            buffer.closed = True
    finally:
        buffer.closed = True
        _buffers.reset(token)
