"""Writing events: inside the change's transaction, on the change's database."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.db import connections, transaction
from django.utils import timezone

from signalkit.audit import buffer as batching
from signalkit.audit.context import current, resolve_actor
from signalkit.audit.serialize import to_json, truncate
from signalkit.conf import get_settings
from signalkit.models import AuditEvent

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Field

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


FIELDS = (
    "occurred_at",
    "action",
    "model_label",
    "object_pk",
    "object_repr",
    "changes",
    "actor_id",
    "actor_repr",
    "remote_addr",
    "correlation_id",
    "txid",
    "extra",
)


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
) -> Event:
    """An unsaved event carrying the current context (actor, address, correlation id)."""
    ctx = current()
    if ctx is None and actor is None:
        actor_id = actor_repr = ""
    else:
        actor_id, actor_repr = resolve_actor(actor if actor is not None else ctx and ctx.actor)
    merged = {**ctx.extra, **(extra or {})} if ctx is not None else extra
    return Event(
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
        extra=to_json(merged) if merged else {},
    )


def emit(event: Event, using: str) -> None:
    """Write ``event`` now, or buffer it in the enclosing :func:`batch`."""
    buffer = batching.buffer_for(using)
    if buffer is not None:
        buffer.add(event)
    else:
        write([event], using)


def write(events: list[Event] | list[AuditEvent], using: str) -> None:
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


def _insert(events: list[Event] | list[AuditEvent], using: str) -> None:
    if isinstance(events[0], AuditEvent):
        for model in events:
            model.save(using=using, force_insert=True)
        return
    # One precompiled INSERT: the ORM's per-row compilation would cost more
    # than the audited change itself.
    connection = connections[using]
    adapters = _adapters(connection)
    rows = [[adapt(getattr(event, name)) for name, adapt in adapters] for event in events]
    with connection.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(_sql(connection), rows[0])
        else:
            cursor.executemany(_sql(connection), rows)


def _fields() -> list[Field[Any, Any]]:
    by_name = {field.name: field for field in AuditEvent._meta.concrete_fields}
    return [by_name[name] for name in FIELDS]


def _adapters(connection: BaseDatabaseWrapper) -> list[tuple[str, Callable[[Any], Any]]]:
    adapters: list[tuple[str, Callable[[Any], Any]]] | None = connection.__dict__.get(
        "_signalkit_audit_adapters"
    )
    if adapters is None:
        ops = connection.ops
        empty = ops.adapt_json_value({}, None)

        def json_value(value: Any) -> Any:
            return ops.adapt_json_value(value, None) if value else empty

        def text(value: Any) -> Any:
            return value

        special: dict[str, Callable[[Any], Any]] = {
            "occurred_at": ops.adapt_datetimefield_value,
            "changes": json_value,
            "extra": json_value,
            "remote_addr": ops.adapt_ipaddressfield_value,
        }
        # Every other column is a CharField holding a str already (see build()).
        adapters = [(name, special.get(name, text)) for name in FIELDS]
        connection.__dict__["_signalkit_audit_adapters"] = adapters
    return adapters


def _sql(connection: BaseDatabaseWrapper) -> str:
    sql: str | None = connection.__dict__.get("_signalkit_audit_insert")
    if sql is None:
        quote = connection.ops.quote_name
        columns = [str(field.column) for field in _fields()]
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(str(AuditEvent._meta.db_table)),
            ", ".join(quote(column) for column in columns),
            ", ".join(["%s"] * len(columns)),
        )
        connection.__dict__["_signalkit_audit_insert"] = sql
    return sql
