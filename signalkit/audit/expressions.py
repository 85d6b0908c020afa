"""Values saved as expressions (``F("stock") - 1``, ``Now()``).

Django 6.0 and later give the instance what the database stored (``RETURNING``),
but Django 5.2 leaves the expression on it after ``save()``: the receivers then
read the stored values back, with one query, only for the fields that hold one.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model

    from signalkit.audit.plans import ModelPlan

# Types a field value usually has: never an expression, checked without hasattr().
_PLAIN = frozenset(
    {
        str,
        int,
        bool,
        float,
        type(None),
        decimal.Decimal,
        datetime.datetime,
        datetime.date,
        uuid.UUID,
    }
)


def stored(sender: type[Model], instance: Model, plan: ModelPlan, using: str) -> dict[str, Any]:
    """The values the database holds for the audited fields of ``instance`` that
    hold an expression (none, and no query, in the usual case)."""
    values = instance.__dict__
    if _PLAIN.issuperset(map(type, map(values.get, plan.attnames))):
        return {}  # the usual case, in C
    unresolved = [
        attname
        for attname in plan.attnames
        if type(values.get(attname)) not in _PLAIN
        and hasattr(values.get(attname), "resolve_expression")
    ]
    if not unresolved or instance.pk is None:
        return {}
    rows = sender._base_manager.using(using).filter(pk=instance.pk).values(*unresolved)
    for row in rows[:1]:
        return dict(row)
    return {}
