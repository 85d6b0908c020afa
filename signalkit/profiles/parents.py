"""A multi-table profile model whose user already has a row of a parent model.

Several profile types may share one parent (``class ChildProfile(ProfileParent)``,
with ``ProfileParent.user``): a user who has a ``ProfileParent`` row but no
``ChildProfile`` row gets the missing child row, joined to the existing parent
row. Inserting a whole new profile instead would insert a second parent row for
the user, which the one-to-one refuses.

The new profile takes every value of the parent row (its primary key and the
user's link included), over those ``DEFAULTS`` gave: ``DEFAULTS`` fills only
the fields the existing row does not have. ``Model.save()`` then does what
Django does for a child instance whose parent key is set: it writes the parent
row again (an ``UPDATE`` with the values just read from it, under a row lock)
and inserts the rows that are missing. The profile sends ``pre_save`` and
``post_save`` (``created=True``, ``raw=False``), like every other new profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db import models

    from signalkit.profiles.config import ProfileConfig


def parents(config: ProfileConfig) -> list[type[models.Model]]:
    """The concrete parents of the profile model that have the user field, nearest first.

    Empty unless the user field is declared on a multi-table parent.
    """
    concrete = config.model._meta.concrete_model
    declared = config.field.model._meta.concrete_model
    if concrete is None or declared is None or concrete is declared:
        return []
    return [model for model in concrete._meta.get_parent_list() if issubclass(model, declared)]


def existing_parents(
    config: ProfileConfig, keys: list[Any], using: str, *, lock: bool = True
) -> dict[Any, Any]:
    """The nearest parent row of each user key in ``keys`` that has one, by user key.

    Run in a transaction: the rows are locked (``select_for_update``) until it
    ends, so that a concurrent change of a parent row is neither lost when the
    new profile writes it again nor read from a stale snapshot. ``lock=False``
    reads them without a lock, to show them (nothing is written).
    """
    found: dict[Any, Any] = {}
    attname = config.field.attname
    for model in parents(config):
        remaining = [key for key in keys if key not in found]
        if not remaining:
            break
        rows = model._base_manager.using(using)
        if lock:
            rows = rows.select_for_update()
        for row in rows.filter(**{f"{attname}__in": remaining}):
            found[getattr(row, attname)] = row
    return found


def adopt(profile: models.Model, parent: models.Model) -> None:
    """Give ``profile`` every value of its existing ``parent`` row (key included)."""
    for field in type(parent)._meta.concrete_fields:
        setattr(profile, field.attname, getattr(parent, field.attname))


def adopt_existing(config: ProfileConfig, profiles: list[models.Model], using: str) -> None:
    """:func:`adopt` the existing parent row of every profile in ``profiles`` that has one."""
    if not parents(config):
        return
    attname = config.field.attname
    found = existing_parents(config, [getattr(profile, attname) for profile in profiles], using)
    for profile in profiles:
        parent = found.get(getattr(profile, attname))
        if parent is not None:
            adopt(profile, parent)
