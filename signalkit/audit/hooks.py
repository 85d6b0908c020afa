"""signalkit's own commit hooks: what a transaction kept, and what runs at its commit.

The audit needs callbacks that are dropped with the savepoint or transaction
that rolls back and run when it commits -- what Django's ``on_commit`` gives --
but it must not put anything in Django's list: tests count it
(``TestCase.captureOnCommitCallbacks``), a user's callback that raises stops
Django from running the ones after it, and Django does not drop callbacks on
the rollback of a savepoint made with ``transaction.savepoint()``.

So every connection the audit writes on gets a private list that follows the
database itself. The connection object's class is swapped, on first use, for a
subclass of its backend's class (one per backend class, with the same name)
that wraps the transaction methods Django's ``atomic()`` and ``transaction``
functions call -- on the class, so that patching or unpatching a method on the
instance (``mock.patch.object(connection, ...)``) cannot remove them:

- ``savepoint()`` notes the savepoint; ``savepoint_commit()`` forgets it (and
  the ones opened after it, released with it);
- ``savepoint_rollback(sid)`` drops every entry registered after ``sid`` was
  opened -- including those of savepoints opened and released since, which the
  database rolls back too;
- ``rollback()`` and ``close()`` drop everything;
- ``commit()`` runs the before-commit step (the waiting events are written
  inside the transaction), commits, then runs the entries.

The list object is replaced whenever a savepoint is opened or entries are
dropped: callbacks registered under the same list share one fate (no savepoint
opened between them can roll one back without the other), and a caller that
kept the list knows, by its identity, whether that is still so. When it is not,
:func:`same_fate` answers for one earlier marker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.backends.base.base import BaseDatabaseWrapper

if TYPE_CHECKING:
    from collections.abc import Callable

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

    __slots__ = ("number",)

    def __init__(self) -> None:
        self.number = 0  # set when registered

    def __call__(self) -> None:
        pass


def of(connection: BaseDatabaseWrapper) -> Hooks:
    """The hooks of ``connection``, installed on first use."""
    hooks: Hooks | None = connection.__dict__.get(ATTRIBUTE)
    if hooks is None:
        hooks = connection.__dict__[ATTRIBUTE] = Hooks()
        if not isinstance(connection, Hooked):
            connection.__class__ = _hooked(type(connection))
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
    marker.number = of(connection).count
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


def same_fate(connection: BaseDatabaseWrapper, marker: Marker) -> bool:
    """Whether what is registered now shares ``marker``'s fate: the marker is
    alive and no savepoint still open was opened after it."""
    hooks = of(connection)
    if next(reversed(hooks.savepoints.values()), -1) >= marker.number:
        return False
    return any(func is marker for _, func in hooks.entries)


class Hooked(BaseDatabaseWrapper):
    """The transaction methods, keeping the connection's hooks (if it has any) in step."""

    def commit(self) -> None:
        hooks: Hooks | None = self.__dict__.get(ATTRIBUTE)
        if hooks is None or self.in_atomic_block:
            super().commit()  # inside an atomic block, Django refuses
            return
        if hooks.before_commit is not None:
            hooks.before_commit()
        super().commit()
        done = hooks.entries
        hooks.reset()
        for _, func in done:
            func()

    # Django replaces its own list exactly when a rollback or a close succeeds
    # (not when it refuses, e.g. inside an atomic block, nor when SQLite keeps
    # an in-memory database open): follow it.
    def rollback(self) -> None:
        before = self.run_on_commit
        super().rollback()
        hooks: Hooks | None = self.__dict__.get(ATTRIBUTE)
        if hooks is not None and self.run_on_commit is not before:
            hooks.reset()

    def close(self) -> None:
        before = self.run_on_commit
        try:
            super().close()
        finally:
            hooks: Hooks | None = self.__dict__.get(ATTRIBUTE)
            if hooks is not None and self.run_on_commit is not before:
                hooks.reset()

    def savepoint(self) -> str | None:
        sid: str | None = super().savepoint()
        hooks: Hooks | None = self.__dict__.get(ATTRIBUTE)
        if hooks is not None and sid is not None:
            hooks.savepoints[sid] = hooks.count
            hooks.entries = list(hooks.entries)
        return sid

    def savepoint_commit(self, sid: str) -> None:
        super().savepoint_commit(sid)
        hooks: Hooks | None = self.__dict__.get(ATTRIBUTE)
        if hooks is not None:
            _forget_after(hooks, sid, keep=False)

    def savepoint_rollback(self, sid: str) -> None:
        before = self.run_on_commit
        super().savepoint_rollback(sid)
        hooks: Hooks | None = self.__dict__.get(ATTRIBUTE)
        if hooks is None or self.run_on_commit is before:
            return  # savepoints are not in use: nothing was rolled back
        # Unknown: opened before the hooks were installed, so before every entry.
        cut = hooks.savepoints.get(sid, 0)
        hooks.entries = [entry for entry in hooks.entries if entry[0] <= cut]
        _forget_after(hooks, sid, keep=True)


_classes: dict[type[BaseDatabaseWrapper], type[Hooked]] = {}


def _hooked(cls: type[BaseDatabaseWrapper]) -> type[Hooked]:
    """The subclass of ``cls`` with the hooked transaction methods (made once)."""
    hooked = _classes.get(cls)
    if hooked is None:
        namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        hooked = _classes[cls] = type(cls.__name__, (Hooked, cls), namespace)
    return hooked


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
