"""Many-to-many changes: the primary keys really added or removed, on each object.

Django's ``pk_set`` is exact for ``add()`` (it reads which links are missing
first), but for ``remove()`` it is whatever the caller passed, and ``clear()``
gives none. So the links of a remove or a clear are read before the change
(``pre_remove``/``pre_clear``) and again after it: what went is what was there
and is not any more -- also when the related model's default manager hides
some rows, which Django's remove and clear leave alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signalkit.audit.serialize import MASKED, to_json
from signalkit.audit.writer import build, emit, for_instance

if TYPE_CHECKING:
    from collections.abc import Collection

    from django.db.models import Model, QuerySet

    from signalkit.audit.plans import M2MPlan, ModelPlan

# The links a remove or clear may take, read at pre_*, keyed by
# (id(instance), through); consumed at post_*.
_before: dict[tuple[int, type[Model]], list[Any]] = {}


def record(
    action: str,
    field: M2MPlan,
    plan: ModelPlan,
    instance: Model,
    reverse: bool,
    pk_set: set[Any] | None,
    using: str,
) -> None:
    """Record one ``m2m_changed`` step of ``field`` (``plan`` is the audited model's)."""
    if action == "post_add":
        if pk_set:
            _events("m2m_add", "add", field, plan, instance, reverse, pk_set, using)
        return
    key = (id(instance), field.through)
    if action == "pre_remove" or action == "pre_clear":
        if action == "pre_remove" and not pk_set:
            return
        links = _links(field, instance, reverse, using)
        if action == "pre_remove":
            links = links.filter(**{f"{_theirs(field, reverse)}__in": pk_set})
        _before[key] = list(links)
        return
    if action == "post_remove" or action == "post_clear":
        before = _before.pop(key, None)
        if not before:
            return
        kept = set(
            _links(field, instance, reverse, using).filter(
                **{f"{_theirs(field, reverse)}__in": before}
            )
        )
        removed = [pk for pk in before if pk not in kept]
        if removed:
            name = "m2m_clear" if action == "post_clear" else "m2m_remove"
            _events(name, "remove", field, plan, instance, reverse, removed, using)


def reset() -> None:
    _before.clear()


def _theirs(field: M2MPlan, reverse: bool) -> str:
    return field.source if reverse else field.target


def _links(field: M2MPlan, instance: Model, reverse: bool, using: str) -> QuerySet[Any]:
    """The pks ``instance`` is linked to through ``field``, as a values list."""
    mine = field.target if reverse else field.source
    rows = field.through._default_manager.using(using).filter(**{mine: instance.pk})
    return rows.values_list(_theirs(field, reverse), flat=True)


def _events(
    action: str,
    kind: str,
    field: M2MPlan,
    plan: ModelPlan,
    instance: Model,
    reverse: bool,
    pks: Collection[Any],
    using: str,
) -> None:
    if not reverse:
        if field.masked:
            values: Any = MASKED
        elif len(pks) == 1:
            values = [to_json(pk) for pk in pks]
        else:
            values = sorted((to_json(pk) for pk in pks), key=str)
        emit(for_instance(action, plan.label, instance, using, {field.name: {kind: values}}), using)
        if not field.symmetrical:
            return
        # The objects on the other end of a symmetrical relation changed too.
        pks = [pk for pk in pks if pk != instance.pk]
    # One event per object on the other end, each changed by ``instance``.
    change = {field.name: {kind: MASKED if field.masked else [to_json(instance.pk)]}}
    for pk in sorted(pks, key=str):
        event = build(action, using=using, model_label=plan.label, object_pk=pk, changes=change)
        emit(event, using)
