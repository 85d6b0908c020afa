"""Writing events: inside the change's transaction, on the change's database."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from signalkit.audit import buffer as batching
from signalkit.audit.context import current, resolve_actor
from signalkit.audit.serialize import to_json, truncate
from signalkit.conf import get_settings
from signalkit.models import AuditEvent

logger = logging.getLogger("signalkit.audit")

_TX_ATTRIBUTE = "_signalkit_audit_tx"


class _TxMarker:
    """A no-op ``on_commit`` callback whose presence marks a known transaction."""

    __slots__ = ()

    def __call__(self) -> None:
        pass


def txid(using: str) -> str:
    """An id shared by the events of one transaction (a fresh one in autocommit)."""
    connection = connections[using]
    if not connection.in_atomic_block:
        return uuid.uuid4().hex
    state = connection.__dict__.get(_TX_ATTRIBUTE)
    hooks = connection.run_on_commit
    if state is not None:
        value, known, marker = state
        if known is hooks:
            return str(value)
        if any(entry[1] is marker for entry in hooks):
            connection.__dict__[_TX_ATTRIBUTE] = (value, hooks, marker)
            return str(value)
    value, marker = uuid.uuid4().hex, _TxMarker()
    connection.on_commit(marker)
    connection.__dict__[_TX_ATTRIBUTE] = (value, connection.run_on_commit, marker)
    return value


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
) -> AuditEvent:
    """An unsaved event carrying the current context (actor, address, correlation id)."""
    ctx = current()
    actor_id, actor_repr = resolve_actor(actor if actor is not None else ctx and ctx.actor)
    merged = {**ctx.extra, **(extra or {})} if ctx is not None else dict(extra or {})
    return AuditEvent(
        occurred_at=timezone.now(),
        action=truncate(action, 32),
        model_label=truncate(model_label, 100),
        object_pk=truncate("" if object_pk is None else object_pk, 255),
        object_repr=truncate(object_repr, 255),
        changes=changes or {},
        actor_id=actor_id,
        actor_repr=actor_repr,
        remote_addr=ctx.remote_addr if ctx is not None else None,
        correlation_id=ctx.correlation_id if ctx is not None else "",
        txid=txid(using),
        extra=to_json(merged),
    )


def emit(event: AuditEvent, using: str) -> None:
    """Write ``event`` now, or buffer it in the enclosing :func:`batch`."""
    buffer = batching.buffer_for(using)
    if buffer is not None:
        buffer.add(event)
    else:
        write([event], using)


def write(events: list[AuditEvent], using: str) -> None:
    """Insert ``events`` following ``ON_ERROR``: raise, or log and go on."""
    if get_settings().audit.on_error == "raise":
        _insert(events, using)
        return
    try:
        if connections[using].in_atomic_block:
            # A savepoint: on PostgreSQL a failed INSERT would otherwise
            # abort the user's whole transaction.
            with transaction.atomic(using=using):
                _insert(events, using)
        else:
            _insert(events, using)
    except Exception:
        logger.exception("signalkit could not record %d audit event(s)", len(events))


def _insert(events: list[AuditEvent], using: str) -> None:
    if len(events) == 1:
        events[0].save(using=using, force_insert=True)
    else:
        AuditEvent.objects.using(using).bulk_create(events)
