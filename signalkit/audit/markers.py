"""Markers: do-nothing ``on_commit`` callbacks that tell what a transaction kept.

Django drops the callbacks registered inside a savepoint when that savepoint
rolls back, and all of them when the transaction does. A marker registered
next to buffered events therefore says, while the transaction runs, whether
those events' changes are still part of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper


class Marker:
    """A no-op ``on_commit`` callback; only its presence in Django's list matters."""

    __slots__ = ()

    def __call__(self) -> None:
        pass


def place(connection: BaseDatabaseWrapper) -> Marker:
    """A new marker, registered in the current transaction and savepoint."""
    marker = Marker()
    connection.on_commit(marker)
    return marker


def alive(connection: BaseDatabaseWrapper) -> dict[int, set[str]]:
    """The registered callbacks still alive: their ``id()`` and savepoint ids."""
    # Entries are (savepoint ids, callback, robust).
    return {id(entry[1]): entry[0] for entry in connection.run_on_commit}
