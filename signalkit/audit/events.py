"""Events about to be written: built with the current context (actor, address,
correlation id) and the transaction's id."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from signalkit.audit.context import current, resolve_actor
from signalkit.audit.serialize import object_pk, to_json, truncate
from signalkit.audit.statements import FIELDS
from signalkit.audit.txids import txid
from signalkit.models import AuditEvent

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model


class Event:
    """An event about to be written: a light stand-in for an unsaved ``AuditEvent``."""

    __slots__ = FIELDS

    occurred_at: Any
    action: str
    model_label: str
    object_pk: str
    object_repr: str
    changes: dict[str, Any]
    actor_id: str
    actor_repr: str
    remote_addr: str | None
    correlation_id: str
    txid: str
    extra: Any

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    def to_model(self) -> AuditEvent:
        return AuditEvent(**{name: getattr(self, name) for name in FIELDS})


def build(
    action: str,
    *,
    using: str,
    model_label: str = "",
    object_pk: Any = "",
    object_repr: Any = "",
    changes: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    actor: Any = None,
    connection: BaseDatabaseWrapper | None = None,
) -> Event:
    """An unsaved event carrying the current context (actor, address, correlation id)."""
    return _event(
        _text(action, 32),
        _text(model_label, 100),
        _text("" if object_pk is None else object_pk, 255),
        _text(object_repr, 255),
        changes or {},
        using,
        connection,
        extra,
        actor,
    )


def for_instance(
    action: str,
    label: str,
    instance: Model,
    using: str,
    changes: dict[str, Any],
    connection: BaseDatabaseWrapper | None = None,
) -> Event:
    """:func:`build` for a change of ``instance``, recorded under ``label``;
    ``action`` is one of the audit's own ("create", "update", "m2m_add", ...),
    which fit the column as they are."""
    try:
        text = str(instance)
    except Exception:
        text = ""  # a __str__ that fails must not fail the change
    pk = object_pk(instance)
    return _event(
        action,
        _text(label, 100),
        _text("" if pk is None else pk, 255),
        _text(text, 255),
        changes,
        using,
        connection,
        None,
        None,
    )


def _event(
    action: str,
    label: str,
    pk: str,
    text: str,
    changes: dict[str, Any],
    using: str,
    connection: BaseDatabaseWrapper | None,
    extra: dict[str, Any] | None,
    actor: Any,
) -> Event:
    # (Positional: called for every audited change.)
    ctx = current()
    event = Event.__new__(Event)
    event.occurred_at = _now(connection)
    event.action = action
    event.model_label = label
    event.object_pk = pk
    event.object_repr = text
    event.changes = changes
    event.txid = txid(using, connection)
    if ctx is None:
        event.actor_id, event.actor_repr = resolve_actor(actor) if actor is not None else ("", "")
        event.remote_addr = None
        event.correlation_id = ""
        event.extra = to_json(extra) if extra else {}
        return event
    event.actor_id, event.actor_repr = resolve_actor(actor if actor is not None else ctx.actor)
    event.remote_addr = ctx.remote_addr
    event.correlation_id = ctx.correlation_id
    merged = {**ctx.extra, **extra} if extra else ctx.extra
    event.extra = to_json(merged) if merged else {}
    return event


_DJANGOS_NOW = timezone.now


def _now(connection: BaseDatabaseWrapper | None) -> datetime.datetime:
    """``timezone.now()``, with ``USE_TZ`` as the connection knows it: its
    ``timezone`` is None exactly when ``USE_TZ`` is off (Django resets it when
    the setting changes), and reading the setting through the lazy settings
    object costs as much as reading the clock. ``timezone.now()`` itself when
    it is patched (a test's mock) or no connection is known."""
    if connection is None or timezone.now is not _DJANGOS_NOW:
        return timezone.now()
    return datetime.datetime.now(None if connection.timezone is None else datetime.UTC)


def _text(value: Any, length: int) -> str:
    # The common case (a short str without NUL) without a call to truncate().
    if type(value) is str:
        if len(value) <= length and "\x00" not in value:
            return value
    elif type(value) is int:  # an integer primary key
        text = str(value)
        if len(text) <= length:
            return text
    return truncate(value, length)
