"""Many-to-many changes: the primary keys really added or removed, on each object.

Django's ``pk_set`` is exact for ``add()`` (it reads which links are missing
first), but for ``remove()`` it is whatever the caller passed, and ``clear()``
gives none. So the links of a remove or a clear are read before the change
(``pre_remove``/``pre_clear``) and again after it: what went is what was there
and is not any more -- also when the related model's default manager hides
some rows, which Django's remove and clear leave alone.
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import TYPE_CHECKING, Any

from signalkit.audit.events import build, for_instance
from signalkit.audit.serialize import MASKED, to_json
from signalkit.audit.writer import emit

if TYPE_CHECKING:
    from collections.abc import Collection

    from django.db.models import Model

    from signalkit.audit.plans import M2MPlan, ModelPlan

    _Key = tuple[int, int, type[Model]]

# The links a remove or clear may take, read at pre_* and consumed at post_*, by
# (thread, id(instance), through): threads may change one instance at once. A
# change whose DELETE failed leaves its entry: the next pre_* of the instance
# replaces it, and it goes with the instance (its weak reference's callback).
_before: dict[_Key, tuple[weakref.ref[Model], list[Any]]] = {}


def record(
    action: str,
    field: M2MPlan,
    plan: ModelPlan,
    instance: Model,
    reverse: bool,
    pk_set: set[Any] | None,
    using: str,
    declaring: ModelPlan | None,
) -> None:
    """Record one ``m2m_changed`` step of ``field``: on ``instance`` under ``plan``
    (forward), or on the objects at the other end under ``declaring``, the plan of
    the model declaring the field (reverse, and the mirror of a symmetrical one)."""
    if action == "post_add":
        if pk_set:
            _events("m2m_add", "add", field, plan, instance, reverse, pk_set, using, declaring)
        return
    key = (threading.get_ident(), id(instance), field.through)
    if action == "pre_clear" or action == "pre_remove":
        if action == "pre_clear" or pk_set:
            among = None if action == "pre_clear" else pk_set
            links = _links(field, instance, reverse, using, among=among)
            _before[key] = (weakref.ref(instance, functools.partial(_forget, key)), links)
        else:
            _before.pop(key, None)
    elif action == "post_remove" or action == "post_clear":
        entry = _before.pop(key, None)
        before = None if entry is None else entry[1]
        if not before:
            return
        kept = set(_links(field, instance, reverse, using, among=before))
        removed = [pk for pk in before if pk not in kept]
        if removed:
            name = "m2m_clear" if action == "post_clear" else "m2m_remove"
            _events(name, "remove", field, plan, instance, reverse, removed, using, declaring)


def _forget(key: _Key, ref: weakref.ref[Model]) -> None:
    # (Only if the entry is still this reference's.)
    entry = _before.get(key)
    if entry is not None and entry[0] is ref:
        _before.pop(key, None)


def reset() -> None:
    _before.clear()


def _links(
    field: M2MPlan,
    instance: Model,
    reverse: bool,
    using: str,
    among: Collection[Any] | None = None,
) -> list[Any]:
    """The keys ``instance`` is linked to through ``field`` (only those ``among``)."""
    mine, key = (field.target, field.target_key) if reverse else (field.source, field.source_key)
    theirs = field.source if reverse else field.target
    rows = field.through._default_manager.using(using).filter(**{mine: getattr(instance, key)})
    if among is not None:
        rows = rows.filter(**{f"{theirs}__in": among})
    return list(rows.values_list(theirs, flat=True))


def _events(
    action: str,
    kind: str,
    field: M2MPlan,
    plan: ModelPlan,
    instance: Model,
    reverse: bool,
    keys: Collection[Any],
    using: str,
    declaring: ModelPlan | None,
) -> None:
    # ``keys`` are what the through model holds: primary keys, or ``to_field`` values.
    if not reverse:
        if field.masked:
            values: Any = MASKED
        elif len(keys) == 1:
            values = [to_json(key) for key in keys]
        else:
            values = sorted((to_json(key) for key in keys), key=str)
        emit(for_instance(action, plan.label, instance, using, {field.name: {kind: values}}), using)
        if not field.symmetrical:
            return
        # The objects on the other end of a symmetrical relation changed too.
        own = getattr(instance, field.source_key)
        keys = [key for key in keys if key != own]
        related = own
    else:
        related = getattr(instance, field.target_key)
    # Recorded in the declaring model's history: as its plan records the field.
    if declaring is None or not keys:
        return  # the model declaring the field is not audited
    mirror = declaring.m2m_for(field.through)
    if mirror is None:
        return  # it leaves the field out
    change = {field.name: {kind: MASKED if mirror.masked else [to_json(related)]}}
    # One event per object at the other end, each changed by ``instance``.
    for pk in sorted(_primary_keys(field, keys, using), key=str):
        event = build(
            action, using=using, model_label=declaring.label, object_pk=pk, changes=change
        )
        emit(event, using)


def _primary_keys(field: M2MPlan, keys: Collection[Any], using: str) -> Collection[Any]:
    """The primary keys of ``field.model``'s objects whose ``source_key`` is in ``keys``."""
    opts = field.model._meta
    if field.source_key == opts.pk.attname:
        return keys
    rows = field.model._base_manager.using(using).filter(**{f"{field.source_key}__in": keys})
    return list(rows.values_list("pk", flat=True))
