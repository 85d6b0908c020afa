"""Writing events: inside the change's transaction, on the change's database."""

from __future__ import annotations

import contextlib
import datetime
import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.db import connections, transaction
from django.utils import timezone

from signalkit.audit import buffer as batching
from signalkit.audit import hooks, packets, pending, statements
from signalkit.audit.context import current, resolve_actor
from signalkit.audit.serialize import object_pk, to_json, truncate
from signalkit.audit.statements import FIELDS
from signalkit.conf import get_settings
from signalkit.models import AuditEvent

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

logger = logging.getLogger("signalkit.audit")

_TX_ATTRIBUTE = "_signalkit_audit_tx"


def txid(using: str, connection: BaseDatabaseWrapper | None = None) -> str:
    """An id shared by the events of one transaction (a fresh one in autocommit).

    ``connection`` is ``connections[using]`` when the caller has it already: the
    lookup is not free, and an audited save makes several."""
    if connection is None:
        connection = connections[using]
    if not hooks.in_transaction(connection):
        return uuid.uuid4().hex
    state = connection.__dict__.get(_TX_ATTRIBUTE)
    if state is not None:
        value, marker = state
        if hooks.of(connection).marker is marker or hooks.is_alive(connection, marker):
            return value  # type: ignore[no-any-return]
    value = uuid.uuid4().hex
    connection.__dict__[_TX_ATTRIBUTE] = (value, hooks.marker(connection))
    return value


class Event:
    """An event about to be written: a light stand-in for an unsaved ``AuditEvent``."""

    __slots__ = FIELDS

    occurred_at: Any
    action: str
    model_label: str
    object_pk: str
    object_repr: str
    changes: dict[str, Any]
    actor_id: str
    actor_repr: str
    remote_addr: str | None
    correlation_id: str
    txid: str
    extra: Any

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    def to_model(self) -> AuditEvent:
        return AuditEvent(**{name: getattr(self, name) for name in FIELDS})


def build(
    action: str,
    *,
    using: str,
    model_label: str = "",
    object_pk: Any = "",
    object_repr: Any = "",
    changes: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    actor: Any = None,
    connection: BaseDatabaseWrapper | None = None,
) -> Event:
    """An unsaved event carrying the current context (actor, address, correlation id)."""
    return _event(
        _text(action, 32),
        _text(model_label, 100),
        _text("" if object_pk is None else object_pk, 255),
        _text(object_repr, 255),
        changes or {},
        using,
        connection,
        extra,
        actor,
    )


def for_instance(
    action: str,
    label: str,
    instance: Model,
    using: str,
    changes: dict[str, Any],
    connection: BaseDatabaseWrapper | None = None,
) -> Event:
    """:func:`build` for a change of ``instance``, recorded under ``label``;
    ``action`` is one of the audit's own ("create", "update", "m2m_add", ...),
    which fit the column as they are."""
    try:
        text = str(instance)
    except Exception:
        text = ""  # a __str__ that fails must not fail the change
    pk = object_pk(instance)
    return _event(
        action,
        _text(label, 100),
        _text("" if pk is None else pk, 255),
        _text(text, 255),
        changes,
        using,
        connection,
        None,
        None,
    )


def _event(
    action: str,
    label: str,
    pk: str,
    text: str,
    changes: dict[str, Any],
    using: str,
    connection: BaseDatabaseWrapper | None,
    extra: dict[str, Any] | None,
    actor: Any,
) -> Event:
    # (Positional: called for every audited change.)
    ctx = current()
    event = Event.__new__(Event)
    event.occurred_at = _now(connection)
    event.action = action
    event.model_label = label
    event.object_pk = pk
    event.object_repr = text
    event.changes = changes
    event.txid = txid(using, connection)
    if ctx is None:
        event.actor_id, event.actor_repr = resolve_actor(actor) if actor is not None else ("", "")
        event.remote_addr = None
        event.correlation_id = ""
        event.extra = to_json(extra) if extra else {}
        return event
    event.actor_id, event.actor_repr = resolve_actor(actor if actor is not None else ctx.actor)
    event.remote_addr = ctx.remote_addr
    event.correlation_id = ctx.correlation_id
    merged = {**ctx.extra, **extra} if extra else ctx.extra
    event.extra = to_json(merged) if merged else {}
    return event


_DJANGOS_NOW = timezone.now


def _now(connection: BaseDatabaseWrapper | None) -> datetime.datetime:
    """``timezone.now()``, with ``USE_TZ`` as the connection knows it: its
    ``timezone`` is None exactly when ``USE_TZ`` is off (Django resets it when
    the setting changes), and reading the setting through the lazy settings
    object costs as much as reading the clock. ``timezone.now()`` itself when
    it is patched (a test's mock) or no connection is known."""
    if connection is None or timezone.now is not _DJANGOS_NOW:
        return timezone.now()
    return datetime.datetime.now(None if connection.timezone is None else datetime.UTC)


def _text(value: Any, length: int) -> str:
    # The common case (a short str without NUL) without a call to truncate().
    if type(value) is str:
        if len(value) <= length and "\x00" not in value:
            return value
    elif type(value) is int:  # an integer primary key
        text = str(value)
        if len(text) <= length:
            return text
    return truncate(value, length)


def emit(
    event: Event,
    using: str,
    connection: BaseDatabaseWrapper | None = None,
    started: int | None = None,
    *,
    nested: bool = False,
) -> None:
    """Buffer ``event`` in the enclosing :func:`batch`, keep it until the
    transaction commits, or write it now (autocommit). ``started``: the number
    of the save it records; ``nested``: another save of the object is in
    progress (see :meth:`buffer.Buffer.add`)."""
    if connection is None:
        connection = connections[using]
    buffer = batching.buffer_for(using, connection)
    if buffer is not None:
        buffer.add(event, connection, started, nested=nested)
        return
    if connection.in_atomic_block and (connection.commit_on_exit or connection.vendor != "sqlite"):
        pending.add(event, using, connection)
        return
    # Autocommit, a manual transaction, or an atomic block inside one on SQLite:
    # there its outermost savepoint can be the transaction, which its release
    # commits without a commit() to write waiting events.
    pending.write_waiting(using, connection)  # (events of atomic blocks may wait)
    try:
        write([event], using, connection)
    except BaseException:
        fail_change(connection)
        raise


def fail_change(connection: BaseDatabaseWrapper) -> None:
    """Keep the change being audited from committing: its audit failed (``ON_ERROR
    = "raise"``), as when its own query fails. An atomic block rolls back; a manual
    transaction is rolled back now (PostgreSQL has aborted it already)."""
    if connection.in_atomic_block:
        connection.needs_rollback = True
        if not connection.commit_on_exit:
            # A manual transaction: the block may have no savepoint to roll
            # back to (savepoint=False, as in Django's deletes and m2m
            # changes), and commit() ignores the flag. Refuse the commit.
            hooks.of(connection).failed = hooks.marker(connection)
    elif not connection.get_autocommit():
        connection.rollback()


def write(
    events: list[Event] | list[AuditEvent],
    using: str,
    connection: BaseDatabaseWrapper | None = None,
) -> None:
    """Insert ``events`` following ``ON_ERROR``: raise, or log and go on."""
    if connection is None:
        connection = connections[using]
    if get_settings().audit.on_error == "raise":
        _insert(events, using, connection)
    elif not _insert_or_log(events, using, connection, log=len(events) == 1):
        # One by one: only the events that cannot be written are lost.
        for index in range(len(events)):
            _insert_or_log(events[index : index + 1], using, connection, log=True)


def savepoint_if_in_transaction(
    using: str, connection: BaseDatabaseWrapper
) -> contextlib.AbstractContextManager[Any]:
    """A savepoint around an audit statement that may fail under ``ON_ERROR =
    "log"`` (also for events written on commit, once atomic() has left its
    block): on PostgreSQL a failed statement would otherwise abort the user's
    whole transaction. Nothing in autocommit."""
    if hooks.in_transaction(connection):
        return transaction.atomic(using=using)
    return contextlib.nullcontext()


def _insert_or_log(
    events: list[Event] | list[AuditEvent],
    using: str,
    connection: BaseDatabaseWrapper,
    *,
    log: bool,
) -> bool:
    doomed = connection.needs_rollback
    try:
        with savepoint_if_in_transaction(using, connection):
            _insert(events, using, connection)
    except Exception:
        if connection.needs_rollback and not doomed:
            # The savepoint could not be rolled back: the server ended the whole
            # transaction (MySQL's and MariaDB's deadlock), the change audited
            # too. Its error must reach the caller, as the change's own would.
            raise
        if log:
            logger.exception("signalkit could not record %d audit event(s)", len(events))
        return False
    return True


def _insert(
    events: list[Event] | list[AuditEvent], using: str, connection: BaseDatabaseWrapper
) -> None:
    row = statements.row_maker(connection)
    if isinstance(events[0], AuditEvent):
        if packets.applies(connection):
            packets.fit(connection, events, row)  # (shrinks the values that cannot fit)
        for model in events:
            model.save(using=using, force_insert=True)
        return
    # Precompiled INSERTs (the ORM's per-row compilation would cost more than
    # the audited change itself), of rows that fit a statement.
    rows = packets.fit(connection, events, row)
    if statements.native_allowed(connection):
        # The driver's own cursor: Django's wrapper costs more than SQLite's
        # INSERT. Only when nothing observes queries (no debug cursor, no
        # execute_wrapper), so assertNumQueries and wrappers still see them.
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            cursor = connection.connection.cursor()
            try:
                statements.execute(cursor, connection, rows, native=True)
            finally:
                cursor.close()
        return
    with connection.cursor() as cursor:
        statements.execute(cursor, connection, rows, native=False)
