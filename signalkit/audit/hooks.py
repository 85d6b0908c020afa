"""signalkit's own commit hooks: what a transaction kept, and what runs at its commit.

The audit needs callbacks that are dropped with the savepoint or transaction
that rolls back and run when it commits -- what Django's ``on_commit`` gives --
but it must not put anything in Django's list: tests count it
(``TestCase.captureOnCommitCallbacks``), a user's callback that raises stops
Django from running the ones after it, and Django does not drop callbacks on
the rollback of a savepoint made with ``transaction.savepoint_create()``.

So every connection the audit writes on gets a private list that follows the
database itself. On first use the connection object's class is swapped for a
subclass of its backend's class (one per backend class; it reports the
backend's class as ``__class__``, so ``connection_created`` receivers and
``repr()`` see no difference) that wraps the transaction methods Django's
``atomic()`` and ``transaction`` functions call -- on the class, so that
patching a method on the instance (``mock.patch.object(connection, ...)``)
cannot remove them:

- ``savepoint()`` notes the savepoint; ``savepoint_commit()`` forgets it (and
  the ones opened after it, released with it);
- ``savepoint_rollback(sid)`` drops every hook registered after ``sid`` was
  opened -- including those of savepoints opened and released since, which the
  database rolls back too;
- ``rollback()`` and ``close()`` drop everything;
- ``commit()`` runs the before-commit step (the waiting events are written
  inside the transaction), commits, then runs the hooks; so does turning
  autocommit on in a manual transaction, which SQLite and MySQL commit.

Hooks are numbered as they are registered, so the list stays sorted and what a
savepoint rollback drops is its tail. The *generation* token is replaced
whenever a savepoint is opened or hooks are dropped: hooks registered in one
generation share one fate (no savepoint can roll back one without the other).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django.db.backends.base.base import BaseDatabaseWrapper

if TYPE_CHECKING:
    from collections.abc import Callable

ATTRIBUTE = "_signalkit_audit_hooks"

_number = attrgetter("number")


class Hook:
    """A commit hook; this base class does nothing when run (a *marker*: only its
    presence in the list matters)."""

    __slots__ = ("number",)

    def __init__(self) -> None:
        self.number = 0  # set when registered

    def __call__(self) -> None:
        pass


Marker = Hook


class Hooks:
    """The private hook list of one connection."""

    __slots__ = ("before_commit", "count", "entries", "generation", "marker", "savepoints")

    def __init__(self) -> None:
        self.entries: list[Hook] = []
        self.count = 0  # registrations so far in this transaction
        # Savepoints open, in the order they were made: sid -> ``count`` then.
        self.savepoints: dict[str, int] = {}
        self.generation = object()
        self.marker: Marker | None = None  # the current generation's
        self.before_commit: Callable[[], None] | None = None

    def new_generation(self) -> None:
        self.generation, self.marker = object(), None

    def reset(self) -> None:
        self.entries, self.savepoints, self.count = [], {}, 0
        self.new_generation()


def of(connection: BaseDatabaseWrapper) -> Hooks:
    """The hooks of ``connection``, installed on first use."""
    hooks: Hooks | None = connection.__dict__.get(ATTRIBUTE)
    if hooks is None:
        hooks = connection.__dict__[ATTRIBUTE] = Hooks()
        if not isinstance(connection, Hooked):
            connection.__class__ = _hooked(type(connection))
    return hooks


def in_transaction(connection: BaseDatabaseWrapper) -> bool:
    """Whether changes made now can still roll back: an atomic block, or a
    manual transaction (``set_autocommit(False)``). Never opens a connection."""
    if connection.in_atomic_block:
        return True
    return connection.connection is not None and not connection.autocommit


def generation(connection: BaseDatabaseWrapper) -> object:
    """A token replaced whenever a savepoint is opened or hooks are dropped."""
    return of(connection).generation


def register(connection: BaseDatabaseWrapper, hook: Hook) -> None:
    """Run ``hook`` after the transaction commits; drop it if its part rolls back.

    The caller is in a transaction (see :func:`in_transaction`)."""
    hooks = of(connection)
    hooks.count += 1
    hook.number = hooks.count
    hooks.entries.append(hook)


def marker(connection: BaseDatabaseWrapper) -> Marker:
    """The marker of the current generation, registered on first use: what is
    tagged with it shares one fate."""
    hooks = of(connection)
    current = hooks.marker
    if current is None:
        current = hooks.marker = Marker()
        register(connection, current)
    return current


def alive_test(connection: BaseDatabaseWrapper) -> Callable[[Hook], bool]:
    """:func:`is_alive` for many hooks at once (most are the same few markers)."""
    known: dict[int, bool] = {}

    def alive(hook: Hook) -> bool:
        found = known.get(id(hook))
        if found is None:
            found = known[id(hook)] = is_alive(connection, hook)
        return found

    return alive


def is_alive(connection: BaseDatabaseWrapper, hook: Hook) -> bool:
    """Whether ``hook`` is still registered (its changes are still part of the transaction)."""
    entries = of(connection).entries
    index = bisect_left(entries, hook.number, key=_number)
    return index < len(entries) and entries[index] is hook


def newest(connection: BaseDatabaseWrapper, kind: type[Any]) -> list[Any]:
    """The registered hooks of class ``kind``, newest first."""
    return [hook for hook in reversed(of(connection).entries) if type(hook) is kind]


def newest_savepoint(connection: BaseDatabaseWrapper) -> int:
    """The registration count when the newest open savepoint was made (-1: none).

    A hook numbered at most this is older than that savepoint: a row written
    now could be rolled back while that hook's change is kept."""
    savepoints = of(connection).savepoints
    return next(reversed(savepoints.values()), -1)


def same_fate(connection: BaseDatabaseWrapper, hook: Hook) -> bool:
    """Whether what is registered now shares ``hook``'s fate: the hook is alive
    and no savepoint still open was opened after it."""
    if newest_savepoint(connection) >= hook.number:
        return False
    return is_alive(connection, hook)


class Hooked(BaseDatabaseWrapper):
    """The transaction methods, keeping the connection's hooks (if it has any) in step."""

    _signalkit_backend: type[BaseDatabaseWrapper] = BaseDatabaseWrapper

    # The backend's class, for code that reads ``connection.__class__``: Django
    # sends ``connection_created`` with it as the sender, and ``repr()`` shows it.
    @property  # type: ignore[misc]
    def __class__(self) -> type[BaseDatabaseWrapper]:  # type: ignore[override]
        return type(self)._signalkit_backend

    def commit(self) -> None:
        hooks: Hooks | None = self.__dict__.get(ATTRIBUTE)
        if hooks is None or self.in_atomic_block:
            super().commit()  # inside an atomic block, Django refuses
            return
        self._signalkit_commit(hooks, super().commit)

    # Turning autocommit on ends a manual transaction: SQLite and MySQL commit
    # it (PostgreSQL's drivers refuse). Django runs no commit of its own then.
    def _set_autocommit(self, autocommit: bool) -> None:
        # (Every backend defines it; the stubs of the base class do not.)
        backend_set = super()._set_autocommit  # type: ignore[misc]
        hooks: Hooks | None = self.__dict__.get(ATTRIBUTE)
        if hooks is None or not autocommit or self.autocommit or not hooks.entries:
            backend_set(autocommit)
            return
        self._signalkit_commit(hooks, partial(backend_set, autocommit))

    def _signalkit_commit(self, hooks: Hooks, commit: Callable[[], None]) -> None:
        if hooks.before_commit is not None:
            hooks.before_commit()  # the waiting events join the transaction
        try:
            commit()
        except BaseException:
            # PostgreSQL ends a transaction whose COMMIT fails (a deferred
            # constraint): its hooks go with it. SQLite keeps it open.
            if not _transaction_open(self):
                hooks.reset()
            raise
        _committed(hooks)

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
            hooks.new_generation()
        return sid

    def savepoint_commit(self, sid: str) -> None:
        super().savepoint_commit(sid)
        hooks: Hooks | None = self.__dict__.get(ATTRIBUTE)
        if hooks is not None:
            _forget_after(hooks, sid, keep=False)
            # SQLite in a manual transaction: a savepoint made outside any
            # transaction is one, and its release commits it.
            if self.vendor == "sqlite" and hooks.entries and not _transaction_open(self):
                _committed(hooks)

    def savepoint_rollback(self, sid: str) -> None:
        before = self.run_on_commit
        super().savepoint_rollback(sid)
        hooks: Hooks | None = self.__dict__.get(ATTRIBUTE)
        if hooks is None or self.run_on_commit is before:
            return  # savepoints are not in use: nothing was rolled back
        # Unknown: opened before the hooks were installed, so before every hook.
        cut = hooks.savepoints.get(sid, 0)
        del hooks.entries[bisect_right(hooks.entries, cut, key=_number) :]
        hooks.new_generation()
        _forget_after(hooks, sid, keep=True)


def _committed(hooks: Hooks) -> None:
    """The transaction committed: forget its hooks, then run them."""
    done = hooks.entries
    hooks.reset()
    for hook in done:
        hook()


def _transaction_open(connection: BaseDatabaseWrapper) -> bool:
    """Whether the driver's connection is still in a transaction (False when unknown)."""
    raw: Any = connection.connection
    if raw is None:
        return False
    if connection.vendor == "sqlite":
        return bool(raw.in_transaction)
    status = getattr(getattr(raw, "info", None), "transaction_status", None)  # psycopg 3
    if status is None and hasattr(raw, "get_transaction_status"):  # psycopg2
        status = raw.get_transaction_status()
    return status is not None and int(status) != 0  # 0: idle, in both


_classes: dict[type[BaseDatabaseWrapper], type[Hooked]] = {}


def _hooked(cls: type[BaseDatabaseWrapper]) -> type[Hooked]:
    """The subclass of ``cls`` with the hooked transaction methods (made once)."""
    hooked = _classes.get(cls)
    if hooked is None:
        namespace = {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "_signalkit_backend": cls,
        }
        made = type(cls.__name__, (Hooked, cls), namespace)
        hooked = _classes.setdefault(cls, made)  # one class even if threads race
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
