"""Writing events: inside the change's transaction, on the change's database."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from django.db import connections, transaction

from signalkit.audit import buffer as batching
from signalkit.audit import hooks, packets, pending, statements
from signalkit.conf import get_settings
from signalkit.models import AuditEvent

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from signalkit.audit.events import Event

logger = logging.getLogger("signalkit.audit")


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
