"""signalkit's own commit hooks: what a transaction kept, and what runs at its commit.

The audit needs callbacks that are dropped with the savepoint or transaction
that rolls back and run when it commits -- what Django's ``on_commit`` gives --
but it must not put anything in Django's list: tests count it
(``TestCase.captureOnCommitCallbacks``), a user's callback that raises stops
Django from running the ones after it, and Django does not drop callbacks on
the rollback of a savepoint made with ``transaction.savepoint_create()``.

So every connection the audit writes on gets a private list that follows the
database itself: its class is swapped on first use for one whose transaction
methods keep the list in step (see :mod:`signalkit.audit.hooked`).

Hooks are numbered as they are registered, so the list stays sorted and what a
savepoint rollback drops is its tail. The *generation* token is replaced
whenever a savepoint is opened or hooks are dropped: hooks registered in one
generation share one fate (no savepoint can roll back one without the other).
"""

from __future__ import annotations

from bisect import bisect_left
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.db.backends.base.base import BaseDatabaseWrapper

ATTRIBUTE = "_signalkit_audit_hooks"

number = attrgetter("number")  # a hook's registration number


class Hook:
    """A commit hook; this base class does nothing when run."""

    __slots__ = ("number",)

    def __init__(self) -> None:
        self.number = 0  # set when registered

    def __call__(self) -> None:
        pass


Marker = Hook  # a hook whose presence in the list is what matters


class Hooks:
    """The private hook list of one connection."""

    __slots__ = (
        "before_commit",
        "count",
        "entries",
        "failed",
        "generation",
        "marker",
        "savepoints",
    )

    def __init__(self) -> None:
        self.entries: list[Hook] = []
        self.count = 0  # registrations so far in this transaction
        # Savepoints open, in the order they were made: sid -> ``count`` then.
        self.savepoints: dict[str, int] = {}
        self.generation = object()
        self.marker: Marker | None = None  # the current generation's
        self.before_commit: Callable[[], None] | None = None
        # Registered when an event could not be written and nothing but the
        # transaction can undo its change: while alive, it must not commit.
        self.failed: Marker | None = None

    def new_generation(self) -> None:
        self.generation, self.marker = object(), None

    def reset(self) -> None:
        self.entries, self.savepoints, self.count = [], {}, 0
        self.failed = None
        self.new_generation()

    def drop_from(self, start: int) -> None:
        """Drop the hooks from index ``start`` on: their part rolled back."""
        del self.entries[start:]
        self.new_generation()


def of(connection: BaseDatabaseWrapper) -> Hooks:
    """The hooks of ``connection``, installed on first use."""
    hooks: Hooks | None = connection.__dict__.get(ATTRIBUTE)
    if hooks is None:
        hooks = connection.__dict__[ATTRIBUTE] = Hooks()
        from signalkit.audit.hooked import Hooked, hooked_class

        if not isinstance(connection, Hooked):
            connection.__class__ = hooked_class(type(connection))
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
    index = bisect_left(entries, hook.number, key=number)
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
