"""The least a signal-based audit log can do, as a benchmark contender.

Receivers on the signals signalkit's audit listens to, doing only what any audit
log must: keep a model instance's loaded values (``post_init``), record the
fields a save changed or a create set, a delete's values and the links an
``add()`` made, and write one row per event into signalkit's own table (same
columns, same indexes) inside the change's transaction, with one multi-row
``executemany`` per block on the driver's own cursor. No actor, no masking, no
truncation, no savepoints, no nested saves, no refreshes, no time zones: less
than the issue asks. Its time is a floor under which no signal-based audit log
can go on these workloads, and against which signalkit's own share is measured.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save
from django.utils import timezone

from signalkit.audit.statements import FIELDS as COLUMNS  # (the columns, by name)
from signalkit.models import AuditEvent
from tests.benchmarks.benchapp.models import MinimalItem

if TYPE_CHECKING:
    from collections.abc import Iterator

LABEL = "benchapp.MinimalItem"
FIELDS = [(field.name, field.attname) for field in MinimalItem._meta.concrete_fields]
_SNAPSHOT = "_minimal_snapshot"
_rows: list[tuple[Any, ...]] = []
_in_block = False


def _sql() -> str:
    quote = connection.ops.quote_name
    placeholder = "?" if connection.vendor == "sqlite" else "%s"
    return "INSERT INTO {} ({}) VALUES ({})".format(
        quote(AuditEvent._meta.db_table),
        ", ".join(quote(column) for column in COLUMNS),
        ", ".join([placeholder] * len(COLUMNS)),
    )


def _values(instance: Any) -> dict[str, Any]:
    values = instance.__dict__
    return {attname: values[attname] for _, attname in FIELDS if attname in values}


def _event(action: str, instance: Any, changes: dict[str, Any]) -> None:
    row = (
        timezone.now(),
        action,
        LABEL,
        str(instance.pk),
        str(instance),
        json.dumps(changes, default=str),
        "",
        "",
        None,
        "",
        _TXID,
        "{}",
    )
    if _in_block:
        _rows.append(row)
    else:
        _write([row])


def _write(rows: list[tuple[Any, ...]]) -> None:
    if connection.vendor == "sqlite":
        # SQLite's driver takes no aware datetimes: what Django's adapter writes.
        rows = [(row[0].isoformat(" ")[:-6], *row[1:]) for row in rows]
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(_sql(), rows)
    finally:
        cursor.close()


_TXID = uuid.uuid4().hex


def snapshot(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.__dict__.get("id") is not None:
        instance.__dict__[_SNAPSHOT] = _values(instance)


def record_save(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    new = _values(instance)
    old = instance.__dict__.get(_SNAPSHOT) or {}
    changes = {
        attname: [old.get(attname), value]
        for attname, value in new.items()
        if created or old.get(attname) != value
    }
    instance.__dict__[_SNAPSHOT] = new
    if changes:
        _event("create" if created else "update", instance, changes)


def record_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    _event(
        "delete", instance, {attname: [value, None] for attname, value in _values(instance).items()}
    )


def record_m2m(sender: Any, instance: Any, action: str, pk_set: Any, **kwargs: Any) -> None:
    if action == "post_add" and pk_set:
        _event("update", instance, {"tags": {"added": sorted(pk_set)}})


_RECEIVERS = (
    (post_init, snapshot, MinimalItem),
    (post_save, record_save, MinimalItem),
    (post_delete, record_delete, MinimalItem),
    (m2m_changed, record_m2m, MinimalItem.tags.through),
)


@contextlib.contextmanager
def connected() -> Iterator[None]:
    for signal, receiver, sender in _RECEIVERS:
        signal.connect(receiver, sender=sender)
    try:
        yield
    finally:
        for signal, receiver, sender in _RECEIVERS:
            signal.disconnect(receiver, sender=sender)


@contextlib.contextmanager
def block() -> Iterator[None]:
    """An atomic block whose events are written, all at once, before it commits."""
    global _in_block
    with transaction.atomic():
        _in_block = True
        try:
            yield
            if _rows:
                _write(_rows)
        finally:
            _in_block = False
            _rows.clear()
