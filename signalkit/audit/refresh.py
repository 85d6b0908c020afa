"""``refresh_from_db()`` refreshes the audit's snapshot too.

The snapshot holds the old values of an instance's next update. Django sends no
signal when an instance is refreshed: without this, an instance refreshed after
another process changed its row would record that process's changes as its own
at its next save. So the audited models' ``refresh_from_db`` is wrapped while
their receivers are connected, as FieldTracker of django-model-utils does.
Django also calls it to load a deferred field on first access, which then needs
no read before the next update.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connections

from signalkit.audit import snapshot

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django.db.models import Model

    from signalkit.audit.plans import ModelPlan

_MARK = "__signalkit_refresh__"
_ABSENT = object()
# (model, what its own __dict__ held under "refresh_from_db", or _ABSENT)
_patched: list[tuple[type[Model], Any]] = []


def patch(models: Iterable[type[Model]], plans: Callable[[type[Model]], ModelPlan | None]) -> None:
    """Wrap ``refresh_from_db`` of ``models`` (once per class hierarchy path)."""
    for model in models:
        current = model.refresh_from_db
        if getattr(current, _MARK, False):
            continue  # inherited from a class wrapped already
        _patched.append((model, model.__dict__.get("refresh_from_db", _ABSENT)))
        model.refresh_from_db = _wrap(current, plans)  # type: ignore[method-assign]


def unpatch() -> None:
    while _patched:
        model, own = _patched.pop()
        if own is _ABSENT:
            del model.refresh_from_db
        else:
            model.refresh_from_db = own  # type: ignore[method-assign]


def _wrap(
    method: Callable[..., None], plans: Callable[[type[Model]], ModelPlan | None]
) -> Callable[..., None]:
    @functools.wraps(method)
    def refresh_from_db(self: Model, *args: Any, **kwargs: Any) -> None:
        method(self, *args, **kwargs)
        plan = plans(type(self))
        if plan is not None:
            # Django's signature: refresh_from_db(using=None, fields=None, ...).
            fields = kwargs["fields"] if "fields" in kwargs else args[1] if len(args) > 1 else None
            _refreshed(self, plan, fields)

    setattr(refresh_from_db, _MARK, True)
    return refresh_from_db


def _refreshed(instance: Model, plan: ModelPlan, fields: Iterable[str] | None) -> None:
    """Record the values ``instance`` was just given as what the database holds."""
    if fields is None:
        attnames = plan.attnames  # every loaded field was refreshed
    else:
        wanted = set(fields)
        attnames = tuple(
            attname for name, attname, _ in plan.encoders if name in wanted or attname in wanted
        )
    taken = snapshot.take(instance, attnames, plan.mutable)
    if not taken:
        return
    connection = connections[instance._state.db or DEFAULT_DB_ALIAS]
    old = snapshot.base(instance, connection)
    # In a transaction, the values read are valid only if it commits (advance()
    # keeps them pending until then).
    snapshot.advance(instance, {**old, **taken} if old else taken, connection)
