"""In-memory snapshots of audited instances: the old values of an update.

A snapshot is taken when an instance is loaded (``post_init``) and after each
save. Inside a transaction the new snapshot is *pending*: it becomes the
committed one only when Django runs the transaction's ``on_commit`` callbacks,
and it is forgotten when the transaction or the savepoint that holds it rolls
back (Django drops those callbacks; we notice because it replaces its
``run_on_commit`` list). So a change that rolled back is diffed again, against
what the database really holds, the next time the instance is saved.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

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


class Promote:
    """The ``on_commit`` callback that makes pending snapshots the committed ones.

    One callback serves every save made while the same savepoints are open
    (one ``on_commit`` entry per group, not per save): Django drops it with
    the savepoint that holds it.
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


# The connection attribute holding (savepoint ids, on_commit list, Promote)
# of the newest group.
_GROUP = "_signalkit_snapshot_group"


def _group(connection: BaseDatabaseWrapper) -> Promote:
    hooks = connection.run_on_commit
    current = connection.__dict__.get(_GROUP)
    if current is not None:
        sids, known, promote = current
        if known is hooks and sids == connection.savepoint_ids:
            return promote  # type: ignore[no-any-return]
    promote = Promote()
    connection.on_commit(promote)
    connection.__dict__[_GROUP] = (
        list(connection.savepoint_ids),
        connection.run_on_commit,
        promote,
    )
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
        if state.pending_list is connection.run_on_commit:
            return state.pending
        # The list was replaced: a commit, a rollback, or a savepoint rollback.
        # The newest of our callbacks that survived holds the valid snapshot.
        for entry in reversed(connection.run_on_commit):
            func = entry[1]
            if isinstance(func, Promote) and state in func.snapshots:
                snapshot = func.snapshots[state]
                state.pending, state.promote = snapshot, func
                state.pending_list = connection.run_on_commit
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
            connection.run_on_commit,
            promote,
        )
    else:
        state.committed = snapshot
        state.pending = state.pending_list = state.promote = None
