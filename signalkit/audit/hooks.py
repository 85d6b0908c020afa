"""signalkit's own commit hooks: what a transaction kept, and what runs at its commit.

The audit needs callbacks that are dropped with the savepoint or transaction
that rolls back and run when it commits -- what Django's ``on_commit`` gives --
but it must not put anything in Django's list: tests count it
(``TestCase.captureOnCommitCallbacks``), a user's callback that raises stops
Django from running the ones after it, and Django does not drop callbacks on
the rollback of a savepoint made with ``transaction.savepoint()``.

So every connection the audit writes on gets a private list that follows the
database itself. Its transaction methods are wrapped on the instance (Django's
``atomic()`` and ``transaction`` functions call them there):

- ``savepoint()`` notes the savepoint; ``savepoint_commit()`` forgets it (and
  the ones opened after it, released with it);
- ``savepoint_rollback(sid)`` drops every entry registered after ``sid`` was
  opened -- including those of savepoints opened and released since, which the
  database rolls back too;
- ``rollback()`` and ``close()`` drop everything;
- ``commit()`` runs the before-commit step (the waiting events are written
  inside the transaction), commits, then runs the entries.

The list object is replaced whenever a savepoint is opened or entries are
dropped: callbacks registered under the same list share one fate, and a caller
that kept the list knows, by its identity, whether that is still so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.db.backends.base.base import BaseDatabaseWrapper

ATTRIBUTE = "_signalkit_audit_hooks"

# (registration number, callback)
Entry = tuple[int, "Callable[[], None]"]


class Hooks:
    """The private hook list of one connection."""

    __slots__ = ("before_commit", "count", "entries", "savepoints")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.count = 0  # registrations so far in this transaction
        # Savepoints open, in the order they were made: sid -> ``count`` then.
        self.savepoints: dict[str, int] = {}
        self.before_commit: Callable[[], None] | None = None

    def reset(self) -> None:
        self.entries, self.savepoints, self.count = [], {}, 0


class Marker:
    """A callback that does nothing: only its presence in the list matters."""

    __slots__ = ()

    def __call__(self) -> None:
        pass


def of(connection: BaseDatabaseWrapper) -> Hooks:
    """The hooks of ``connection``, installed on first use."""
    hooks: Hooks | None = connection.__dict__.get(ATTRIBUTE)
    if hooks is None:
        hooks = connection.__dict__[ATTRIBUTE] = Hooks()
        _install(connection, hooks)
    return hooks


def entries(connection: BaseDatabaseWrapper) -> list[Entry]:
    """The current list: a new one after a savepoint is opened or entries are dropped."""
    return of(connection).entries


def on_commit(connection: BaseDatabaseWrapper, func: Callable[[], None]) -> None:
    """Run ``func`` after the transaction commits; forget it if its part rolls back.

    The caller is in an atomic block."""
    hooks = of(connection)
    hooks.count += 1
    hooks.entries.append((hooks.count, func))


def place(connection: BaseDatabaseWrapper) -> Marker:
    """A new marker, registered in the current transaction and savepoint."""
    marker = Marker()
    on_commit(connection, marker)
    return marker


def alive(connection: BaseDatabaseWrapper) -> dict[int, int]:
    """The entries still alive: their callback's ``id()`` and registration number."""
    return {id(func): number for number, func in of(connection).entries}


def newest_savepoint(connection: BaseDatabaseWrapper) -> int:
    """The registration count when the newest open savepoint was made (-1: none).

    An entry numbered at most this is older than that savepoint: a row written
    now could be rolled back while that entry's change is kept."""
    savepoints = of(connection).savepoints
    return next(reversed(savepoints.values()), -1)


def _install(connection: BaseDatabaseWrapper, hooks: Hooks) -> None:
    commit, rollback, close = connection.commit, connection.rollback, connection.close
    savepoint, savepoint_commit = connection.savepoint, connection.savepoint_commit
    savepoint_rollback = connection.savepoint_rollback

    def wrapped_commit() -> None:
        if connection.in_atomic_block:
            commit()  # Django refuses: nothing is written or run
            return
        if hooks.before_commit is not None:
            hooks.before_commit()
        commit()
        done = hooks.entries
        hooks.reset()
        for _, func in done:
            func()

    # Django replaces its own list exactly when a rollback or a close succeeds
    # (not when it refuses, e.g. inside an atomic block, nor when SQLite keeps
    # an in-memory database open): follow it.
    def wrapped_rollback() -> None:
        before = connection.run_on_commit
        rollback()
        if connection.run_on_commit is not before:
            hooks.reset()

    def wrapped_close() -> None:
        before = connection.run_on_commit
        try:
            close()
        finally:
            if connection.run_on_commit is not before:
                hooks.reset()

    def wrapped_savepoint() -> str | None:
        sid: str | None = savepoint()
        if sid is not None:
            hooks.savepoints[sid] = hooks.count
            hooks.entries = list(hooks.entries)
        return sid

    def wrapped_savepoint_commit(sid: str) -> None:
        savepoint_commit(sid)
        _forget_after(hooks, sid, keep=False)

    def wrapped_savepoint_rollback(sid: str) -> None:
        before = connection.run_on_commit
        savepoint_rollback(sid)
        if connection.run_on_commit is before:
            return  # savepoints are not in use: nothing was rolled back
        # Unknown: opened before the hooks were installed, so before every entry.
        cut = hooks.savepoints.get(sid, 0)
        hooks.entries = [entry for entry in hooks.entries if entry[0] <= cut]
        _forget_after(hooks, sid, keep=True)

    values: dict[str, Any] = {
        "commit": wrapped_commit,
        "rollback": wrapped_rollback,
        "close": wrapped_close,
        "savepoint": wrapped_savepoint,
        "savepoint_commit": wrapped_savepoint_commit,
        "savepoint_rollback": wrapped_savepoint_rollback,
    }
    connection.__dict__.update(values)


def _forget_after(hooks: Hooks, sid: str, *, keep: bool) -> None:
    """Forget the savepoints opened after ``sid`` (and ``sid`` unless ``keep``):
    the database released or destroyed them with it."""
    if sid not in hooks.savepoints:
        return
    kept: dict[str, int] = {}
    for name, count in hooks.savepoints.items():
        if name == sid:
            if keep:
                kept[name] = count
            break
        kept[name] = count
    hooks.savepoints = kept
