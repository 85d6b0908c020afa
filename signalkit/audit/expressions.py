"""Values saved as expressions (``F("stock") - 1``, ``Now()``).

Django 6.0 and later give the instance what the database stored (``RETURNING``),
or, where an ``UPDATE`` cannot return values (MariaDB, MySQL), unload the field;
Django 5.2 leaves the expression on the instance after ``save()``. In a transaction the
receivers read the stored values back (one query, only for such a save): the
row stays locked until the commit, so what they read is what this save wrote.
In autocommit another change could land between the save and any read, so the
event keeps the expression's text, and the snapshot forgets the field: its old
value is read before the next update, as for a deferred field. An unloaded field
has no text to keep: there its new value is recorded as unknown (``None``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signalkit.audit import hooks
from signalkit.audit.compare import unloaded
from signalkit.audit.readback import read_row

if TYPE_CHECKING:
    from collections.abc import Collection

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

    from signalkit.audit.plans import ModelPlan


def unresolved(
    plan: ModelPlan,
    values: dict[str, Any],
    saved: Collection[str] | None,
    old: dict[str, Any] | None,
) -> list[str]:
    """The attnames of the audited fields that were saved (``saved``: the
    ``update_fields``, ``None`` for all) and hold an expression, or that the
    snapshot ``old`` holds and the save unloaded. Called only once one was met
    (``encoders.Unresolved``): ordinary saves never pay for it."""
    return [
        attname
        for name, attname, _ in plan.encoders
        if (saved is None or name in saved or attname in saved)
        and (
            hasattr(values.get(attname), "resolve_expression")
            or (attname not in values and unloaded(plan, attname, old))
        )
    ]


def stored(
    sender: type[Model],
    instance: Model,
    attnames: list[str],
    using: str,
    connection: BaseDatabaseWrapper,
) -> dict[str, Any]:
    """The values this save stored for ``attnames``, when they can be known: in a
    transaction, and while the row exists (an empty dict otherwise)."""
    if not hooks.in_transaction(connection) or instance.pk is None:
        return {}
    return read_row(sender, instance.pk, attnames, using, connection) or {}
