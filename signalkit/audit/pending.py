"""Events waiting for their transaction's commit (default mode, in atomic blocks).

Inside an atomic block, an audited change's event is not written at once: it
waits here, and the events of the transaction are written together, with
multi-row INSERTs, just before Django commits it -- inside the transaction, so
a committed change always has its event and a rolled-back one has none, at one
statement per transaction instead of one per change.

They are written earlier when the ORM reads ``AuditEvent`` on that database (a
test, a view or :func:`signalkit.audit.history` in the same transaction sees
them), and once ``LIMIT`` of them wait, which bounds a long transaction's memory.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.db import Error, connections

from signalkit.audit import hooks

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from signalkit.audit.events import Event
    from signalkit.audit.hooks import Marker

ATTRIBUTE = "_signalkit_audit_pending"
LIMIT = 1000


class Pending:
    """The waiting events of one connection (Django's connections are per thread)."""

    __slots__ = ("events", "exposed", "using")

    def __init__(self, using: str) -> None:
        self.using = using
        # (marker of the change's savepoint, event)
        self.events: list[tuple[Marker, Event]] = []
        # Events written inside a savepoint opened after their change's: written
        # again if that savepoint rolls back and the change's does not.
        # (marker of the write's savepoint, marker of the change's, event)
        self.exposed: list[tuple[Marker, Marker, Event]] = []

    def add(self, event: Event, connection: BaseDatabaseWrapper) -> None:
        self.events.append((hooks.marker(connection), event))
        if len(self.events) >= LIMIT:
            self.write(connection)

    def write(self, connection: BaseDatabaseWrapper) -> None:
        """Write the events whose changes are still part of the transaction."""
        from signalkit.audit.writer import write

        alive = hooks.alive_test(connection)
        newest = hooks.newest_savepoint(connection)
        # Rows to write again come first: they are older than any waiting event.
        waiting: list[tuple[Marker, Event]] = []
        exposed: list[tuple[Marker, Marker, Event]] = []
        opened = hooks.of(connection).savepoints.values()
        for written, marker, event in self.exposed:
            if not alive(marker):
                continue  # the change rolled back, and its row with it
            if not alive(written):
                waiting.append((marker, event))  # the row rolled back, the change did not
            elif any(marker.number <= count < written.number for count in opened):
                # A savepoint opened between the change and the write is still
                # open. (Once none is, the row and the change share one fate.)
                exposed.append((written, marker, event))
        waiting += self.events
        events: list[Event] = []
        for marker, event in waiting:
            if not alive(marker):
                continue
            events.append(event)
            if marker.number <= newest:  # a savepoint opened since could drop the row
                exposed.append((hooks.marker(connection), marker, event))
        if events:
            try:
                write(events, self.using, connection)
            except BaseException:
                # As Django does when a save fails in an atomic block: the
                # transaction (or savepoint) must not commit half of its log.
                if connection.in_atomic_block:
                    connection.needs_rollback = True
                raise
        self.events, self.exposed = [], exposed

    def reset(self) -> None:
        self.events, self.exposed = [], []

    def commit(self, connection: BaseDatabaseWrapper) -> None:
        """Write what waits, then commit; if writing fails, roll back and raise."""
        if self.events or self.exposed:
            try:
                self.write(connection)
            except BaseException:
                self.reset()
                try:
                    connection.rollback()
                except Error:
                    connection.close()
                raise
        self.reset()


def add(event: Event, using: str, connection: BaseDatabaseWrapper) -> None:
    """Keep ``event`` until its transaction commits (the caller is in an atomic block)."""
    pending: Pending | None = connection.__dict__.get(ATTRIBUTE)
    if pending is None:
        pending = connection.__dict__[ATTRIBUTE] = Pending(using)
        # Django has no hook that runs before a commit; signalkit's hooks
        # give one (the connection's commit() writes the events first).
        hooks.of(connection).before_commit = partial(pending.commit, connection)
    pending.add(event, connection)


def write_waiting(using: str, connection: BaseDatabaseWrapper | None = None) -> None:
    """Write the events waiting on ``using`` now: before the log is read, or
    before an event that is written at once, so that ids follow the changes.

    ``connection`` is ``connections[using]`` when the caller has it already."""
    if connection is None:
        connection = connections[using]
    pending: Pending | None = connection.__dict__.get(ATTRIBUTE)
    if pending is not None and (pending.events or pending.exposed):
        pending.write(connection)
