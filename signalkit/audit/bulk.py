"""Instances given to ``bulk_create()``: their snapshot is not of their row.

``bulk_create()`` sends no signal, and marks the instances it inserts saved, as
loaded ones are. One given its primary key before (``Post(pk=1, ...)``, or a
key with a default) holds the snapshot ``post_init`` took when it was built:
its constructor's values, not those the insert computed (``auto_now`` fields,
``db_default`` ones, what ``pre_save()`` of other fields set) nor, with
``ignore_conflicts`` or ``update_conflicts``, those of a row that was there
already -- nor, given to another database's ``bulk_create()``, of that row.
So ``QuerySet.bulk_create`` is wrapped while models are audited: it drops the
snapshots of the instances it is given, and their next save or delete reads
the row, as it does for the instances it gave a key (those had no snapshot).
Saves pay nothing for it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.db.models import Model, QuerySet

from signalkit.audit import snapshot
from signalkit.audit.wrapping import Wrapping

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable

_wrapping = Wrapping("bulk_create", "__signalkit_bulk__")


def patch(models: Collection[type[Model]]) -> None:
    """Wrap ``QuerySet.bulk_create`` (every model's) if any of ``models`` is audited."""
    if models:
        _wrapping.patch([QuerySet], _wrap)


def unpatch() -> None:
    _wrapping.unpatch()


def _wrap(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def bulk_create(self: QuerySet[Any], objs: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        if not isinstance(objs, (list, tuple)):
            objs = list(objs)  # (a generator: Django makes a list of it too)
        for obj in objs:
            if isinstance(obj, Model):
                obj.__dict__.pop(snapshot.ATTRIBUTE, None)
        return method(self, objs, *args, **kwargs)

    return bulk_create
