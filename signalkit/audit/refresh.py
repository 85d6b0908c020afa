"""``refresh_from_db()`` refreshes the audit's snapshot too.

The snapshot holds the old values of an instance's next update. Django sends no
signal when an instance is refreshed: without this, an instance refreshed after
another process changed its row would record that process's changes as its own
at its next save. So the audited models' ``refresh_from_db`` is wrapped while
their receivers are connected (see :mod:`signalkit.audit.wrapping`).

Django refreshes an instance by loading a copy of the row (its ``post_init``
is the audit's ``take_snapshot``) and copying the fields the copy loaded: the
wrapper records exactly the copy's values -- not what the instance holds after
the call, which an override of ``refresh_from_db`` may have changed, nor fields a
``from_queryset`` left deferred. Django also refreshes a deferred field on first
access, which then needs no read before the next update.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connections

from signalkit.audit import snapshot
from signalkit.audit.wrapping import Wrapping

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django.db.models import Model

    from signalkit.audit.plans import ModelPlan

_wrapping = Wrapping("refresh_from_db", "__signalkit_refresh__")

# The instance being refreshed, and the values of the copy Django loaded for it.
# (Read by take_snapshot for every audited row loaded: checked there, inline.)
REFRESHING: ContextVar[tuple[Model, dict[str, Any]] | None] = ContextVar(
    "signalkit_audit_refreshing", default=None
)


def patch(models: Iterable[type[Model]], plans: Callable[[type[Model]], ModelPlan | None]) -> None:
    """Wrap ``refresh_from_db`` of ``models`` (once per class hierarchy path)."""
    _wrapping.patch(models, lambda method: _wrap(method, plans))


def unpatch() -> None:
    _wrapping.unpatch()


def loaded(
    refreshing: tuple[Model, dict[str, Any]], instance: Model, values: dict[str, Any]
) -> None:
    """``take_snapshot`` saw ``instance`` loaded with ``values`` during the refresh
    ``refreshing`` (``REFRESHING``'s value): if it is the copy of the instance
    being refreshed, they are what that instance is given."""
    target, found = refreshing
    # The copy: a row of the same table (Django may load it through a proxy or
    # a child's queryset), keyed as the database gives the key back.
    if (
        target is not instance
        and not found
        and isinstance(instance, target._meta.concrete_model or type(target))
        and _key(target) == instance.pk
    ):
        found.update(values)


def _key(instance: Model) -> Any:
    try:
        return instance._meta.pk.to_python(instance.pk)
    except Exception:
        return instance.pk


def _wrap(
    method: Callable[..., None], plans: Callable[[type[Model]], ModelPlan | None]
) -> Callable[..., None]:
    @functools.wraps(method)
    def refresh_from_db(self: Model, *args: Any, **kwargs: Any) -> None:
        plan = plans(type(self))
        if plan is None:
            method(self, *args, **kwargs)
            return
        found: dict[str, Any] = {}
        token = REFRESHING.set((self, found))
        try:
            method(self, *args, **kwargs)
        finally:
            REFRESHING.reset(token)
        values = {attname: found[attname] for attname in plan.attnames if attname in found}
        if values:
            connection = connections[self._state.db or DEFAULT_DB_ALIAS]
            complete = len(values) == len(plan.attnames)
            # Every field read: the snapshot is now of the row the key names.
            key = plan.row_key(self.__dict__) if complete else None
            snapshot.refresh(self, values, complete, connection, key)

    return refresh_from_db
