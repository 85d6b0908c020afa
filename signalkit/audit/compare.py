"""Whether saving a value over another leaves the column as it was."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signalkit.audit.serialize import same_json, to_json

if TYPE_CHECKING:
    from signalkit.audit.plans import ModelPlan


def same_value(old: Any, new: Any, plan: ModelPlan, attname: str) -> bool:
    """Whether saving ``new`` over ``old`` leaves the column as it was."""
    if old is new:
        return True
    if attname in plan.strict:
        return _identical(old, new)  # JSON: 1, 1.0 and True are three values
    try:
        if old == new:
            return True
    except Exception:
        pass
    convert = plan.converters.get(attname)
    if convert is not None:
        try:
            # Assigned as text ("1.5" for Decimal("1.50"), "3" for a key): the
            # column is given the same value.
            if convert(old) == convert(new):
                return True
        except Exception:
            pass
    return bool(to_json(old) == to_json(new))


def _identical(old: Any, new: Any) -> bool:
    # As JSON: a tuple is stored as a list, keys as strings.
    try:
        return same_json(to_json(old), to_json(new))
    except Exception:
        return False
