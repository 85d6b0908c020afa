"""The audit log: model changes and auth events recorded in ``AuditEvent``.

Public API: :func:`context`, :func:`batch`, :func:`record`, :func:`history`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connections, router
from django.db.models import BinaryField, Func, Value

from signalkit.audit.buffer import batch
from signalkit.audit.context import context

if TYPE_CHECKING:
    from django.db.models import Model

    from signalkit.models import AuditEvent, AuditEventQuerySet

__all__ = ["batch", "connect", "context", "history", "record"]


def record(
    action: str, obj: Model | None = None, *, changes: dict[str, Any] | None = None, **extra: Any
) -> AuditEvent:
    """Record a custom event (``action`` is free text, up to 32 characters).

    ``obj`` names the object it is about; ``changes``, a dict, is stored as given
    (converted to JSON); the other keyword arguments land in ``extra``. The
    event is written where ``obj``'s changes are (the database routers give
    for writing it, not a replica it was read from), in the current transaction
    (inside :func:`batch` it is written when the block ends, and the returned
    event stays unsaved).
    """
    from django.utils.functional import Promise

    from signalkit.audit.buffer import buffer_for
    from signalkit.audit.events import build
    from signalkit.audit.pending import write_waiting
    from signalkit.audit.serialize import object_pk, to_json
    from signalkit.audit.writer import write
    from signalkit.models import AuditEvent

    if isinstance(action, Promise):  # gettext_lazy("approved"), stored as its text
        action = str(action)
    if not isinstance(action, str) or not action:
        raise TypeError(f"action must be a non-empty string, not {action!r}.")
    if obj is not None:
        _check_object(obj, "record")
        if _unsaved(obj):
            # Its event would name no object: history() could never find it.
            raise ValueError(
                f"record() needs a saved object ({obj.__class__.__name__} has no primary "
                f"key: unsaved, or deleted): record the event after saving it or before "
                f"deleting it, or without the object."
            )
    if changes is not None and not isinstance(changes, dict):
        # Stored as given, a list or a string would break every reader of
        # ``changes`` (the admin's history pages among them).
        raise TypeError(
            f"changes must be a dict of field (or any) names to values, such as "
            f'{{"rows": [old, new]}}, not {changes!r:.80}.'
        )
    using = router.db_for_write(AuditEvent)
    if obj is not None and obj._state.db is not None:
        # Where its changes are recorded: never the replica it was read from.
        # (``__class__``, not ``type()``: a lazy object such as ``request.user``
        # is a SimpleLazyObject, which has no ``_meta`` for the routers.)
        using = router.db_for_write(obj.__class__, instance=obj)
    label = pk = ""
    text: Any = ""
    if obj is not None:
        label = (obj._meta.concrete_model or obj.__class__)._meta.label
        # The object itself: build() turns it into text, and a __str__ that
        # raises does not break the caller.
        pk, text = object_pk(obj), obj
    event = build(
        action,
        using=using,
        model_label=label,
        object_pk=pk,
        object_repr=text,
        changes=to_json(changes or {}),
        extra=extra,
    )
    connection = connections[using]
    buffer = buffer_for(using, connection)
    if buffer is not None:
        buffer.add(event, connection)
        return event.to_model()
    model = event.to_model()
    write_waiting(using)
    write([model], using)
    return model


def history(obj: Model) -> AuditEventQuerySet:
    """The events of ``obj`` (its proxies included), oldest first; also once it is
    deleted, through the instance that deleted it."""
    from signalkit.audit.saves import DELETED
    from signalkit.audit.serialize import object_pk
    from signalkit.models import AuditEvent

    _check_object(obj, "history")
    using = obj._state.db or router.db_for_read(AuditEvent)
    if _unsaved(obj):
        # Deleted (Django set its key to None), or never saved: no history yet.
        key = getattr(obj, DELETED, None)  # (through a lazy object too)
        if key is None:
            return AuditEvent.objects.using(using).none()
        return events_of(obj.__class__, key, using)
    return events_of(obj.__class__, object_pk(obj), using)  # (request.user is lazy)


def _unsaved(obj: Model) -> bool:
    """Whether ``obj`` has no primary key yet (a composite one: any part)."""
    pk = obj.pk
    return pk is None or (type(pk) is tuple and any(part is None for part in pk))


def _check_object(obj: Any, caller: str) -> None:
    from django.db.models import Model

    # isinstance(), not type(): a lazy object (request.user) passes for its target.
    if not isinstance(obj, Model):
        raise TypeError(
            f"{caller}() takes a model instance as the object, not {obj!r:.80} "
            f"({type(obj).__name__})."
        )


def events_of(model: type[Model], key: Any, using: str) -> AuditEventQuerySet:
    """The events of the ``model`` object whose primary key is ``key`` (as
    :func:`~signalkit.audit.serialize.object_pk` gives it), on ``using``,
    oldest first: also once the object is deleted."""
    from signalkit.audit.serialize import truncate
    from signalkit.models import AuditEvent

    label = (model._meta.concrete_model or model)._meta.label
    # As the writer stores it: a key over 255 characters is cut, NUL replaced.
    pk = truncate(key, 255)
    events = AuditEvent.objects.using(using).filter(model_label=label, object_pk=pk)
    if connections[using].vendor == "mysql":
        # MySQL and MariaDB compare text without case, accents or trailing
        # spaces by default ('abc' = 'ABC ' = 'äbc'): the index finds those
        # candidates, and the bytes keep this object's only.
        events = events.alias(_exact_pk=_Bytes("object_pk")).filter(_exact_pk=_Bytes(Value(pk)))
    return events.order_by("occurred_at", "pk")


class _Bytes(Func):
    """An expression's text as bytes (MySQL and MariaDB), compared exactly. In one
    character set: a column in another one (``latin1``) keeps other bytes for
    the same text than the parameter, in the connection's."""

    template = "CAST(CONVERT(%(expressions)s USING utf8mb4) AS BINARY)"
    output_field = BinaryField()


def connect() -> None:
    """Connect the audit receivers as the settings say (called from ``ready()``)."""
    # (Importing checks and middleware_checks registers their system checks.)
    from signalkit.audit import auth, checks, middleware_checks, receivers  # noqa: F401

    receivers.connect()
    auth.connect()
