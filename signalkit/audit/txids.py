"""Transaction ids: one shared by the events of a transaction."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import connections

from signalkit.audit import hooks

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

_TX_ATTRIBUTE = "_signalkit_audit_tx"


def txid(using: str, connection: BaseDatabaseWrapper | None = None) -> str:
    """An id shared by the events of one transaction (a fresh one in autocommit).

    ``connection`` is ``connections[using]`` when the caller has it already: the
    lookup is not free, and an audited save makes several."""
    if connection is None:
        connection = connections[using]
    # (An atomic block, the common case, told without a call.)
    if not (connection.in_atomic_block or hooks.in_transaction(connection)):
        return uuid.uuid4().hex
    state = connection.__dict__.get(_TX_ATTRIBUTE)
    if state is not None:
        value, marker = state
        if hooks.of(connection).marker is marker or hooks.is_alive(connection, marker):
            return value  # type: ignore[no-any-return]
    value = uuid.uuid4().hex
    connection.__dict__[_TX_ATTRIBUTE] = (value, hooks.marker(connection))
    return value
