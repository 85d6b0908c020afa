"""Reading audited values back from the database, under ``ON_ERROR``.

The receivers read a row in two cases: the old values of fields deferred at
load time (before an update), and the values an expression stored (after one).
A read that fails is an audit failure like a failed write: with ``"raise"`` the
change fails too, and cannot commit; with ``"log"`` it is logged and the change
goes on -- the read runs in a savepoint when in a transaction, so that
PostgreSQL does not abort it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from signalkit.audit.writer import fail_change, savepoint_if_in_transaction
from signalkit.conf import get_settings

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

logger = logging.getLogger("signalkit.audit")


def read_row(
    model: type[Model],
    pk: Any,
    attnames: list[str],
    using: str,
    connection: BaseDatabaseWrapper,
) -> dict[str, Any] | None:
    """The values of ``attnames`` in ``model``'s row ``pk``; ``None`` when the row
    is gone or (``ON_ERROR = "log"``) cannot be read."""
    query = model._base_manager.using(using).filter(pk=pk).values(*attnames)
    if get_settings().audit.on_error == "raise":
        try:
            rows = list(query[:1])
        except BaseException:
            fail_change(connection)  # as for a failed write: nothing commits
            raise
    else:
        try:
            with savepoint_if_in_transaction(using, connection):
                rows = list(query[:1])
        except Exception:
            logger.exception(
                "signalkit could not read the audited values of %s %r", model._meta.label, pk
            )
            return None
    return dict(rows[0]) if rows else None
