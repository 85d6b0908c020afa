"""The check of the values ``DEFAULTS`` returns, before ``Model(**values)`` sees them."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured

if TYPE_CHECKING:
    from django.db import models

_UNKNOWN = "not a field"


def check_values(
    model: type[models.Model],
    values: dict[str, Any],
    *,
    user_field: models.Field[Any, Any],
    where: str,
) -> None:
    """Raise :class:`~django.core.exceptions.ImproperlyConfigured`, naming ``where``,
    when a key of ``values`` is not something a new ``model`` instance can be given."""
    why = {key: why_not_settable(model, key) for key in values}
    if user_field.attname != user_field.name and user_field.attname in values:
        # Model() sets it after the user given by name: the profile would be
        # another user's, returned as this one's.
        why[user_field.attname] = f"the key of {user_field.name!r}, which is the user's"
    label = model._meta.label
    fields = ", ".join(
        field.name
        for field in model._meta.concrete_fields
        if not field.auto_created and not field.generated
    )
    unknown = [key for key, reason in why.items() if reason == _UNKNOWN]
    if unknown:
        # Checked here, not left to Model(**values): its TypeError does not name
        # the setting, and createprofiles would end with a traceback.
        raise ImproperlyConfigured(
            f"{where} returned a dict with {', '.join(map(repr, unknown))}, "
            f"which {'is not a field' if len(unknown) == 1 else 'are not fields'} of "
            f"{label}. Return only field names of the profile model ({label}: {fields})."
        )
    refused = [f"{key!r} ({reason})" for key, reason in why.items() if reason is not None]
    if refused:
        # Model(**values) accepts their names, then its assignment raises an
        # error that names no setting (or, for a reverse one-to-one, the value
        # is never saved).
        raise ImproperlyConfigured(
            f"{where} returned a dict with {', '.join(refused)}, which a new {label} "
            f"cannot be given. Return only field names of the profile model ({label}: "
            f"{fields}); fill many-to-many fields and reverse relations in a post_save "
            "receiver of the profile model."
        )


def why_not_settable(model: type[models.Model], name: str) -> str | None:
    """Why ``Model(**{name: value})`` cannot set ``name`` on a new instance, or ``None``.

    Django accepts a field's name or attname, a property, and any other name
    ``get_field()`` knows, which it assigns as an attribute: that works for
    concrete fields and forward virtual ones (a ``GenericForeignKey``), not for
    many-to-many fields and reverse relations. A ``GeneratedField`` takes the
    value, but the database computes the column: the value is never saved.
    """
    attribute = inspect.getattr_static(model, name, None)
    if isinstance(attribute, property):
        return None if attribute.fset is not None else "a read-only property"
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return _UNKNOWN
    if field.auto_created and not field.concrete:
        return "a reverse relation"
    if field.many_to_many:
        return "a many-to-many field"
    if getattr(field, "generated", False):
        return "a generated field"
    if field.one_to_many:  # a GenericRelation: the reverse side of a generic key
        return "a reverse relation"
    return None
