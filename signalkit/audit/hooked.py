"""The connection class that keeps a connection's commit hooks in step.

On first use (:func:`signalkit.audit.hooks.of`) the connection object's class
is swapped for a subclass of its backend's class (one per backend class; it
reports the backend's class as ``__class__``, so ``connection_created``
receivers and ``repr()`` see no difference) that wraps the transaction methods
Django's ``atomic()`` and ``transaction`` functions call -- on the class, so
that patching a method on the instance (``mock.patch.object(connection, ...)``)
cannot remove them:

- ``savepoint()`` notes the savepoint; ``savepoint_commit()`` forgets it (and
  the ones opened after it, released with it);
- ``savepoint_rollback(sid)`` drops every hook registered after ``sid`` was
  opened -- including those of savepoints opened and released since, which the
  database rolls back too;
- ``rollback()`` and ``close()`` drop everything;
- ``commit()`` runs the before-commit step (the waiting events are written
  inside the transaction), commits, then runs the hooks; so does turning
  autocommit on in a manual transaction, which SQLite and MySQL commit, and on
  SQLite releasing a savepoint that was the transaction.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import TransactionManagementError

from signalkit.audit.hooks import ATTRIBUTE, Hooks, is_alive, number

if TYPE_CHECKING:
    from collections.abc import Callable


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
        if hooks.failed is not None and is_alive(self, hooks.failed):
            # An event could not be written in a manual transaction on SQLite,
            # in a block without a savepoint, and no savepoint has rolled its
            # change back since: the transaction must not commit without it.
            self.rollback()
            raise TransactionManagementError(
                "The transaction was rolled back: an audit event of it could not be "
                "written (SIGNALKIT['AUDIT']['ON_ERROR'] is 'raise')."
            )
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
        hooks.drop_from(bisect_right(hooks.entries, cut, key=number))
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


def hooked_class(cls: type[BaseDatabaseWrapper]) -> type[Hooked]:
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
