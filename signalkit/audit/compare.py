"""What a save changed: the values that do not leave the column as it was."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signalkit.audit.encoders import Unresolved
from signalkit.audit.serialize import same_json, to_json

if TYPE_CHECKING:
    from signalkit.audit.plans import ModelPlan


def same_value(old: Any, new: Any, plan: ModelPlan, attname: str) -> bool:
    """Whether saving ``new`` over ``old`` leaves the column as it was."""
    if old is new:
        return True
    if attname in plan.strict:
        convert = plan.converters.get(attname)
        if convert is not None:  # a JSON field's own encoder writes the column
            try:
                old, new = convert(old), convert(new)
            except Exception:
                return False
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


def unloaded(plan: ModelPlan, attname: str, old: dict[str, Any] | None) -> bool:
    """Whether the field ``attname``, missing from the instance after its save,
    was loaded and unloaded by the save: Django 6 does so with a value saved as
    an expression where the database cannot return it (MariaDB, MySQL). A
    GeneratedField is left unloaded also by other saves (and is never assigned):
    its change is not recorded, as on Django 5.2, which keeps the old value."""
    return attname not in plan.generated and (old is None or attname in old)


def changes_of(
    plan: ModelPlan,
    values: dict[str, Any],
    old: dict[str, Any] | None,
    created: bool,
    update_fields: frozenset[str] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The changes of a save, and the values of the fields it saved (an update's);
    :class:`~signalkit.audit.encoders.Unresolved` if a value is an expression, or
    if a field the snapshot holds is no longer loaded."""
    if created:
        changes = {
            name: [None, encode(values[attname])]
            for name, attname, encode in plan.encoders
            if attname in values
        }
        return changes, {}
    changes = {}
    saved = {}
    generated = plan.generated
    exact = plan.exact
    for name, attname, encode in plan.encoders:
        if generated and attname in generated:
            # Computed by the database, whatever the update_fields: a change when
            # Django gave the new value back (Django 6: tracked) and the
            # snapshot, if any, knows the old one.
            if (
                attname not in plan.tracked
                or attname not in values
                or (old is not None and attname not in old)
            ):
                continue
        elif (
            update_fields is not None and name not in update_fields and attname not in update_fields
        ):
            continue
        elif attname not in values:
            if unloaded(plan, attname, old):
                raise Unresolved(attname)
            continue
        new_value = values[attname]
        saved[attname] = new_value
        if old is not None and attname in old:
            old_value = old[attname]
            if old_value is new_value:
                continue
            kind = exact.get(attname)
            if kind is not None and type(old_value) is kind and type(new_value) is kind:
                if old_value == new_value:
                    continue
            elif same_value(old_value, new_value, plan, attname):
                continue
        else:
            old_value = None
        changes[name] = [encode(old_value), encode(new_value)]
    return changes, saved
