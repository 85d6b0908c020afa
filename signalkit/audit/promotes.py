"""The commit hooks that make pending snapshots the committed ones (see
:mod:`signalkit.audit.snapshot`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signalkit.audit import hooks

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from signalkit.audit.snapshot import Snapshot, SnapshotState


class Promote(hooks.Hook):
    """The commit hook that makes pending snapshots the committed ones.

    One hook serves a run of saves that no savepoint opened or rolled back
    separates (one hook per run, not per save): it is dropped with the
    savepoint that holds it.
    """

    __slots__ = ("owner", "snapshots")

    def __init__(self, owner: hooks.Hooks) -> None:
        super().__init__()
        self.owner = owner  # the hooks of the connection it is registered on
        self.snapshots: dict[SnapshotState, Snapshot] = {}

    def __call__(self) -> None:
        snapshots, self.snapshots = self.snapshots, {}
        for state, snapshot in snapshots.items():
            state.committed = snapshot
            if state.promote is self:
                state.forget_pending()


# The connection attribute holding (hooks' generation, Promote) of the newest group.
_GROUP = "_signalkit_snapshot_group"


def group(connection: BaseDatabaseWrapper) -> tuple[Promote, object]:
    """The newest group's hook, and the hooks' generation."""
    owner = hooks.of(connection)
    current = owner.generation
    found = connection.__dict__.get(_GROUP)
    if found is not None:
        known, promote = found
        if known is current:
            return promote, current
    promote = Promote(owner)
    hooks.register(connection, promote)
    connection.__dict__[_GROUP] = (current, promote)
    return promote, current
