"""In-memory snapshots of audited instances: the old values of an update.

A snapshot is taken when an instance is loaded (``post_init``) and after each
save. Inside a transaction the new snapshot is *pending*: it becomes the
committed one only when the transaction commits (a commit hook, see
:mod:`signalkit.audit.hooks`), and it is forgotten when the transaction or the
savepoint that holds it rolls back (the hook is dropped; we notice because the
hook list is replaced). So a change that rolled back is diffed again, against
what the database really holds, the next time the instance is saved.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from signalkit.audit import hooks

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

ATTRIBUTE = "_signalkit_snapshot"

Snapshot = dict[str, Any]


class SnapshotState:
    __slots__ = ("committed", "partial", "pending", "pending_list", "promote")

    def __init__(self, committed: Snapshot | None, partial: bool = False) -> None:
        self.committed = committed
        # Some audited fields were deferred when the instance was loaded.
        self.partial = partial
        self.pending: Snapshot | None = None
        self.pending_list: list[Any] | None = None
        self.promote: Promote | None = None

    # A copy (``setUpTestData``'s deep copy per test, pickling to a cache)
    # leaves the transaction's bookkeeping behind: the latest snapshot becomes
    # the copy's committed one.
    def __getstate__(self) -> tuple[Snapshot | None, bool]:
        return (self.committed if self.pending is None else self.pending, self.partial)

    def __setstate__(self, state: tuple[Snapshot | None, bool]) -> None:
        self.committed, self.partial = state
        self.pending = self.pending_list = self.promote = None


class Promote:
    """The commit hook that makes pending snapshots the committed ones.

    One hook serves every save made while the same savepoints are open (one
    entry per group, not per save): it is dropped with the savepoint that
    holds it.
    """

    __slots__ = ("snapshots",)

    def __init__(self) -> None:
        self.snapshots: dict[SnapshotState, Snapshot] = {}

    def __call__(self) -> None:
        snapshots, self.snapshots = self.snapshots, {}
        for state, snapshot in snapshots.items():
            state.committed = snapshot
            if state.promote is self:
                state.pending = state.pending_list = state.promote = None


# The connection attribute holding (hook list, Promote) of the newest group.
_GROUP = "_signalkit_snapshot_group"


def _group(connection: BaseDatabaseWrapper) -> Promote:
    current = hooks.entries(connection)
    group = connection.__dict__.get(_GROUP)
    if group is not None:
        known, promote = group
        if known is current:
            return promote  # type: ignore[no-any-return]
    promote = Promote()
    hooks.on_commit(connection, promote)
    connection.__dict__[_GROUP] = (current, promote)
    return promote


def take(instance: Model, attnames: tuple[str, ...], mutable: frozenset[str]) -> Snapshot:
    """The current values of ``attnames`` (deferred fields are left out)."""
    values = instance.__dict__
    snapshot = {name: values[name] for name in attnames if name in values}
    if mutable:
        for name in mutable & snapshot.keys():
            snapshot[name] = copy.deepcopy(snapshot[name])
    return snapshot


def remember(instance: Model, snapshot: Snapshot, partial: bool = False) -> None:
    """Record ``snapshot`` as what the database holds (at ``post_init``); ``partial``
    when some audited fields were deferred."""
    instance.__dict__[ATTRIBUTE] = SnapshotState(snapshot, partial)


def is_partial(instance: Model) -> bool:
    """Whether ``instance`` was loaded with some audited fields deferred."""
    state: SnapshotState | None = instance.__dict__.get(ATTRIBUTE)
    return state is not None and state.partial


def base(instance: Model, connection: BaseDatabaseWrapper) -> Snapshot | None:
    """What the database holds for ``instance`` as seen by ``connection``'s transaction."""
    state: SnapshotState | None = instance.__dict__.get(ATTRIBUTE)
    if state is None:
        return None
    if state.pending is not None:
        current = hooks.entries(connection)
        if state.pending_list is current:
            return state.pending
        # The list was replaced: a commit, a rollback, or a savepoint rollback.
        # The newest of our hooks that survived holds the valid snapshot.
        for _, func in reversed(current):
            if isinstance(func, Promote) and state in func.snapshots:
                snapshot = func.snapshots[state]
                state.pending, state.promote, state.pending_list = snapshot, func, current
                return snapshot
        state.pending = state.pending_list = state.promote = None
    return state.committed


def advance(instance: Model, snapshot: Snapshot, connection: BaseDatabaseWrapper) -> None:
    """Record ``snapshot`` as saved; committed now, or when the transaction commits."""
    state: SnapshotState | None = instance.__dict__.get(ATTRIBUTE)
    if state is None:
        state = instance.__dict__[ATTRIBUTE] = SnapshotState(None)
    if connection.in_atomic_block:
        promote = _group(connection)
        promote.snapshots[state] = snapshot
        state.pending, state.pending_list, state.promote = (
            snapshot,
            hooks.entries(connection),
            promote,
        )
    else:
        state.committed = snapshot
        state.pending = state.pending_list = state.promote = None
