"""Primary keys of audited rows, as an instance's ``__dict__`` holds them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model


def key_attnames(model: type[Model]) -> tuple[str, ...]:
    """The attnames holding ``model``'s primary key (several for a composite one)."""
    pk = model._meta.pk
    fields = getattr(pk, "fields", None)  # CompositePrimaryKey (Django 5.2+)
    if fields:
        return tuple(field.attname for field in fields)
    return (pk.attname,)


def row_attnames(model: type[Model]) -> tuple[str, ...]:
    """The attnames naming the row a save of ``model`` writes: for a multi-table
    child, its root parent's key -- ``save()`` gives the child's link the
    parent's key, whichever of the two was changed -- else its own."""
    roots = [parent for parent in model._meta.get_parent_list() if not parent._meta.parents]
    return key_attnames(roots[0]) if len(roots) == 1 else key_attnames(model)


def has_key(values: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """Whether an instance's ``__dict__`` holds its whole primary key."""
    if values.get(keys[0]) is None:
        return False
    return len(keys) == 1 or all(values.get(key) is not None for key in keys[1:])


def key_of(values: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """The primary key in an instance's ``__dict__`` (a tuple for a composite one)."""
    if len(keys) == 1:
        return values.get(keys[0])
    return tuple(values.get(key) for key in keys)
