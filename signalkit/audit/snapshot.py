"""In-memory snapshots of audited instances: the old values of an update.

A snapshot is taken when an instance is loaded (``post_init``) and after each
save. Inside a transaction the new snapshot is *pending*: it becomes the
committed one only when the transaction commits (a commit hook, see
:mod:`signalkit.audit.hooks`), and it is forgotten when the transaction or the
savepoint that holds it rolls back (the hook is dropped, and the hooks'
generation changes). So a change that rolled back is diffed again, against
what the database really holds, the next time the instance is saved.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from django.db.models.fields.files import FieldFile

from signalkit.audit import hooks, saves
from signalkit.audit.promotes import Promote, group

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

ATTRIBUTE = "_signalkit_snapshot"

Snapshot = dict[str, Any]


class SnapshotState:
    __slots__ = (
        "committed",
        "generation",
        "key",
        "owner",
        "partial",
        "pending",
        "promote",
        "refreshed",
    )

    def __init__(
        self,
        committed: Snapshot | None,
        partial: bool = False,
        owner: int | None = None,
        key: Any = None,
    ) -> None:
        self.committed = committed
        # The primary key of the row the snapshots are of (see belongs());
        # None: not known.
        self.key = key
        # id() of the instance it belongs to; None: the first to use it (a deep
        # copy's, an unpickled one's). See _state().
        self.owner = owner
        # Some audited fields were deferred when the instance was loaded.
        self.partial = partial
        self.pending: Snapshot | None = None
        # The hooks' generation when ``pending`` was known to be valid.
        self.generation: object = None
        self.promote: Promote | None = None
        # Filled by refresh_from_db(): what the database holds, also for an
        # instance built in memory.
        self.refreshed = False

    def _copied(self, committed: Snapshot | None, partial: bool) -> SnapshotState:
        copied = SnapshotState(committed, partial, key=self.key)
        copied.refreshed = self.refreshed
        return copied

    def forget_pending(self) -> None:
        self.pending = self.generation = self.promote = None

    def __deepcopy__(self, memo: dict[int, Any]) -> SnapshotState:
        # setUpTestData's copy for each test, or any deep copy: the copy shares
        # the original's fate -- every pending snapshot of the original (one
        # per savepoint still open) is committed or dropped with the copy's.
        copied = self._copied(_copy(self.committed), self.partial)
        if self.promote is not None and self.pending is not None:
            for promote in _holding(self):
                promote.snapshots[copied] = dict(promote.snapshots[self])
            copied.pending, copied.generation = _copy(self.pending), self.generation
            copied.promote = self.promote
        return copied

    # Pickled (to a cache, to another process), the transaction's bookkeeping
    # stays behind. The copy keeps the values known to be in the database
    # whatever the transaction does: those no pending snapshot changed. The
    # others are read from the database before the copy's next update or delete.
    def __getstate__(self) -> tuple[Snapshot | None, bool, bool, Any]:
        if self.pending is None or self.promote is None:
            return (self.committed, self.partial, self.refreshed, self.key)
        pending = [self.pending, *(promote.snapshots[self] for promote in _holding(self))]
        committed = self.committed or {}
        kept = {
            name: value
            for name, value in committed.items()
            if all(_equal(snapshot, name, value) for snapshot in pending)
        }
        return (kept, True, self.refreshed, self.key)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        # (committed, partial), then (committed, partial, refreshed), now with the
        # key: instances pickled by an earlier version load too.
        self.committed, self.partial = state[0], state[1]
        self.refreshed = bool(state[2]) if len(state) > 2 else False
        self.key = state[3] if len(state) > 3 else None
        self.owner = None
        self.forget_pending()


def _holding(state: SnapshotState) -> list[Promote]:
    """The live hooks holding a pending snapshot of ``state``, oldest first."""
    if state.promote is None:
        return []
    return [
        hook
        for hook in state.promote.owner.entries
        if type(hook) is Promote and state in hook.snapshots
    ]


def _copy(snapshot: Snapshot | None) -> Snapshot | None:
    # Values in a snapshot are never changed in place (mutable ones are deep
    # copies already), but the dict is: the old values of deferred fields are
    # added to it when they are read.
    return None if snapshot is None else dict(snapshot)


def _equal(snapshot: Snapshot, name: str, value: Any) -> bool:
    if name not in snapshot:
        return False
    try:
        return bool(snapshot[name] == value)
    except Exception:
        return False


def take(instance: Model, attnames: tuple[str, ...], mutable: frozenset[str]) -> Snapshot:
    """The current values of ``attnames`` (deferred fields are left out)."""
    values = instance.__dict__
    snapshot = {name: values[name] for name in attnames if name in values}
    if mutable:
        for name in mutable & snapshot.keys():
            snapshot[name] = _detached(snapshot[name])
    return snapshot


def _detached(value: Any) -> Any:
    # A value the instance may change in place, as the snapshot must not see:
    # a JSON value (``obj.data["k"] = 1``), a bytearray, a custom field's
    # object, or a file (``obj.doc.save(...)`` and ``.delete()`` change the
    # FieldFile's name).
    kind = type(value)
    if kind is str or kind is bytes or kind is int or value is None:
        return value
    if kind is dict or kind is list:  # (JSON, arrays)
        return copy.deepcopy(value)
    if isinstance(value, FieldFile):
        return value.name or None  # as the log records a file: by name, None when empty
    if kind is memoryview:  # (PostgreSQL's binary data: read-only)
        return value if value.readonly else value.tobytes()
    try:
        copied = copy.deepcopy(value)
        # A copy that is not equal (an object without __eq__) would be a change
        # at every save: such a value is kept as it is.
        return copied if bool(copied == value) else value
    except Exception:
        return value  # (a value that cannot be copied: as it is)


def remember(instance: Model, snapshot: Snapshot, partial: bool = False, key: Any = None) -> None:
    """Record ``snapshot`` as what the database holds (at ``post_init``) for the row
    ``key`` (see :func:`key_of`); ``partial`` when some audited fields were deferred."""
    instance.__dict__[ATTRIBUTE] = SnapshotState(snapshot, partial, id(instance), key)


def belongs(instance: Model, key: Any) -> bool:
    """Whether ``instance``'s snapshot, if any, is of the row ``key`` (the one its
    save would write now): not if its key was given another row's since
    (``a.pk = b.pk``)."""
    state: SnapshotState | None = instance.__dict__.get(ATTRIBUTE)
    return state is None or state.key is None or bool(state.key == key)


def _state(instance: Model) -> SnapshotState | None:
    """``instance``'s snapshot state, its own: a shallow copy of an instance
    (``copy.copy()``) shares the original's ``__dict__`` values, so the copy
    gets a state of its own, sharing the original's fate, on first use."""
    state: SnapshotState | None = instance.__dict__.get(ATTRIBUTE)
    if state is not None and state.owner != id(instance):
        if state.owner is not None:
            state = instance.__dict__[ATTRIBUTE] = copy.deepcopy(state)
        state.owner = id(instance)
    return state


def refresh(
    instance: Model,
    values: Snapshot,
    complete: bool,
    connection: BaseDatabaseWrapper,
    key: Any = None,
) -> None:
    """Record ``values`` just read by ``refresh_from_db()`` (or the audit) from the
    row ``key`` as what the database holds, as a load does (``complete``: every
    audited field was read)."""
    state = _state(instance)
    if state is None or (instance._state.adding and not state.refreshed):
        # None yet, or the one post_init took of an instance built in memory:
        # its constructor's values, not the database's.
        state = instance.__dict__[ATTRIBUTE] = SnapshotState(None, not complete, id(instance))
    if key is not None:
        state.key = key
    current = base(instance, connection)
    # During a save (read by one of its receivers), or after a change of this
    # transaction: what was read is valid only if that change commits.
    if saves.keep(instance, current) or (current is not None and current is state.pending):
        advance(instance, {**(current or {}), **values}, connection)
    else:
        state.committed = {**(state.committed or {}), **values}
    state.refreshed = True


def is_refreshed(instance: Model) -> bool:
    """Whether ``instance``'s snapshot was filled by ``refresh_from_db()``."""
    state = _state(instance)
    return state is not None and state.refreshed


def forget(instance: Model, attnames: list[str]) -> None:
    """Mark the values of ``attnames`` unknown in the snapshot just advanced: they
    are read from the database before the next update, as deferred fields are."""
    state = _state(instance)
    if state is not None:
        for snapshot in (state.pending, state.committed):
            if snapshot is not None:
                for attname in attnames:
                    snapshot.pop(attname, None)
        state.partial = True


def held(instance: Model) -> bool:
    """Whether ``instance`` has a snapshot of its row, as far as can be told
    without a connection (one a rollback dropped since counts)."""
    state: SnapshotState | None = instance.__dict__.get(ATTRIBUTE)
    return state is not None and (state.committed is not None or state.pending is not None)


def is_partial(instance: Model) -> bool:
    """Whether ``instance`` was loaded with some audited fields deferred."""
    state: SnapshotState | None = instance.__dict__.get(ATTRIBUTE)
    return state is not None and state.partial


def base(instance: Model, connection: BaseDatabaseWrapper) -> Snapshot | None:
    """What the database holds for ``instance`` as seen by ``connection``'s transaction."""
    state = _state(instance)
    if state is None:
        return None
    if state.pending is not None:
        current = hooks.of(connection).generation  # (hooks.generation(), without a call)
        if state.generation is current:
            return state.pending
        # A savepoint was opened, or hooks were dropped: is ours still there?
        if state.promote is not None and hooks.is_alive(connection, state.promote):
            state.generation = current
            return state.pending
        # The newest of our hooks that survived holds the valid snapshot.
        for promote in hooks.newest(connection, Promote):
            if state in promote.snapshots:
                state.pending, state.promote = promote.snapshots[state], promote
                state.generation = current
                return state.pending
        state.forget_pending()
    return state.committed


def advance(
    instance: Model, snapshot: Snapshot, connection: BaseDatabaseWrapper, key: Any = None
) -> None:
    """Record ``snapshot`` as saved (of the row ``key``, if given); committed now,
    or when the transaction commits."""
    state = _state(instance)
    if state is None:
        state = instance.__dict__[ATTRIBUTE] = SnapshotState(None, owner=id(instance))
    if key is not None:
        state.key = key
    # (An atomic block, the common case, told without a call.)
    if connection.in_atomic_block or hooks.in_transaction(connection):
        promote, current = group(connection)
        promote.snapshots[state] = snapshot
        state.pending, state.generation, state.promote = snapshot, current, promote
    else:
        state.committed = snapshot
        state.forget_pending()
