"""The model receivers, connected per audited model (never for all senders).

Keys (for toggles and mutes): ``signalkit.audit.receivers.take_snapshot``,
``signalkit.audit.receivers.check_snapshot``, ``signalkit.audit.receivers.record_save``, ``signalkit.audit.receivers.record_delete``,
``signalkit.audit.receivers.record_m2m``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_init,
    post_save,
    pre_delete,
    pre_save,
)

from signalkit.audit import buffer, bulk, expressions, refresh, saves, snapshot
from signalkit.audit import m2m as many_to_many
from signalkit.audit.audited import plans as _plans
from signalkit.audit.audited import through_plans as _m2m
from signalkit.audit.audited import warn_dropped
from signalkit.audit.compare import changes_of
from signalkit.audit.encoders import Unresolved
from signalkit.audit.events import for_instance
from signalkit.audit.plans import build
from signalkit.audit.readback import read_all, read_deleted, read_saved
from signalkit.audit.rowkeys import has_key, key_attnames
from signalkit.audit.writer import emit
from signalkit.conf import get_settings

if TYPE_CHECKING:
    from django.db.models import Model


def take_snapshot(sender: type[Model], *, instance: Model, **kwargs: Any) -> None:
    plan = _plans.get(sender)
    # Without a primary key the instance is new (rows are always loaded with
    # theirs): its first save is a create, which needs no old values.
    if plan is not None and has_key(instance.__dict__, plan.keys):
        taken = snapshot.take(instance, plan.attnames, plan.mutable)
        key = plan.row_key(instance.__dict__)
        snapshot.remember(instance, taken, len(taken) < len(plan.attnames), key)
        refreshing = refresh.REFRESHING.get()
        if refreshing is not None:  # maybe the copy refresh_from_db() loads
            refresh.loaded(refreshing, instance, taken)


def check_snapshot(
    sender: type[Model], *, instance: Model, raw: bool = False, using: str = "", **kwargs: Any
) -> None:
    """Make the snapshot hold what the database holds before the change is written
    (``pre_save`` and ``pre_delete``)."""
    plan = _plans.get(sender)
    keys = key_attnames(sender) if plan is None else plan.keys
    values = instance.__dict__
    # (has_key() without a call for a single key: every save comes here.)
    keyed = values.get(keys[0]) is not None if len(keys) == 1 else has_key(values, keys)
    saving = kwargs.get("signal") is pre_save
    if not keyed and (instance._state.adding or not sender._meta.parents):
        # A create (also of a copy whose key was set to None): no old values.
        # (A multi-table child's missing key may come from its parent's.)
        values.pop(snapshot.ATTRIBUTE, None)
        if saving:
            saves.check(instance, raw, kwargs.get("update_fields"), created=True)
        return
    alias = using or instance._state.db or DEFAULT_DB_ALIAS
    read = False
    if instance._state.adding and not snapshot.is_refreshed(instance):
        # Built in memory (``Post(pk=1, title="x").save()`` updates an existing
        # row): its post_init snapshot is its constructor's values, not the
        # database's -- unless refresh_from_db() filled it.
        values.pop(snapshot.ATTRIBUTE, None)
    elif (
        keyed
        and not raw
        and plan is not None
        and not snapshot.belongs(instance, plan.row_key(values))
    ):
        # Its primary key was given another row's since the snapshot: read that row.
        values.pop(snapshot.ATTRIBUTE, None)
        read_all(plan, sender, instance, alias, lock=kwargs.get("signal") is pre_delete)
        read = True
    if saving:
        update_fields = kwargs.get("update_fields")
        if not raw and not read and plan is not None:
            read_saved(plan, sender, instance, alias, update_fields)
        saves.check(instance, raw, update_fields)
    elif not read:
        read_deleted(plan, sender, instance, alias, kwargs.get("origin"))


#: Set on an instance saved raw (a fixture), until its next save.
RAW_LOADED = "_signalkit_raw_loaded"
# From Django 6.1, loaddata sends m2m_changed with ``raw``: no flag is needed,
# and one would hide the links the program changes later on that instance.
_FLAG_RAW = django.VERSION < (6, 1)


def record_save(
    sender: type[Model],
    *,
    instance: Model,
    created: bool,
    raw: bool,
    using: str,
    update_fields: frozenset[str] | None,
    **kwargs: Any,
) -> None:
    # The old values as pre_save found them, when a receiver of this save ran
    # refresh_from_db() since, making the new values the snapshot's.
    ending = saves.end(instance)
    kept = ending.kept
    plan = _plans.get(sender)
    if plan is None:
        return
    if raw:
        # Before Django 6.1 m2m_changed has no ``raw``: loaddata sets the links of
        # the instance it just saved raw, which must not be recorded either.
        if _FLAG_RAW:
            instance.__dict__[RAW_LOADED] = True
        return
    if _FLAG_RAW:
        instance.__dict__.pop(RAW_LOADED, None)
    connection, batch = buffer.enclosing(using)
    values = instance.__dict__
    if ending.written:
        # Saves nested in this one (by its receivers) changed these fields since:
        # what this one wrote, and they recorded the rest.
        values = {**values, **ending.written}
    old = None if created else snapshot.base(instance, connection) if kept is None else kept[0]
    known: dict[str, Any] = {}
    unknown: list[str] = []
    try:
        changes, saved = changes_of(plan, values, old, created, update_fields)
    except Unresolved:
        # Fields saved as expressions (Django 5.2 leaves them on the instance,
        # Django 6 on MariaDB and MySQL unloads them): what the database stored,
        # or the expression's text where that cannot be known (see expressions.py).
        unresolved = expressions.unresolved(plan, values, update_fields, old)
        known = expressions.stored(sender, instance, unresolved, using, connection)
        unknown = [attname for attname in unresolved if attname not in known]
        # The expression's text; an unloaded field has none: unknown (None).
        texts = {
            attname: str(values[attname]) if attname in values else None for attname in unknown
        }
        values = {**values, **known, **texts}
        changes, saved = changes_of(plan, values, old, created, update_fields)
    # Another save of the instance in progress: this one is nested in it.
    nested = bool(changes) and ending.nested
    if changes or created:
        action = "create" if created else "update"
        event = for_instance(action, plan.label, instance, using, changes, connection)
        if ending.deleted is not None and instance.pk is None:
            # A receiver of the save deleted the instance before the audit's.
            event.object_pk = ending.deleted
        started = ending.number if ending.number >= 0 else None
        if batch is not None:  # (what emit() does, the buffer known already)
            batch.add(event, connection, started, nested=nested)
        else:
            emit(event, using, connection, started, nested=nested)
    if created or update_fields is None:
        new = snapshot.take(instance, plan.attnames, plan.mutable)
        if known:
            new.update(known)
    else:
        # The fields not saved keep what the snapshot holds now: a receiver of
        # this save may have refreshed them since its pre_save.
        current = old if kept is None else snapshot.base(instance, connection)
        new = {**(current or {}), **snapshot.take(instance, tuple(saved), plan.mutable)}
        if known:
            new.update((attname, known[attname]) for attname in saved if attname in known)
    if ending.written:
        # Fields saves nested in this one changed: what the database holds,
        # their changes included unless they rolled back.
        current = snapshot.base(instance, connection) or {}
        new.update((attname, current[attname]) for attname in ending.written if attname in current)
    stale = False
    if plan.generated and not created:
        # Generated values Django left unloaded (MariaDB, MySQL): the snapshot
        # does not know what the row holds now, changes recorded or not (of
        # fields left out of the log).
        for attname in plan.generated:
            if attname not in instance.__dict__:
                new.pop(attname, None)
                stale = stale or (old is not None and attname in old)
    if created or changes or old is None or stale:
        snapshot.advance(instance, new, connection, plan.row_key(instance.__dict__))
    if nested and not created and old is not None:
        # A save nested in another: what it found is what the outer one wrote.
        changed = [attname for name, attname, _ in plan.encoders if name in changes]
        saves.carry(instance, ending.number, old, changed)
    if unknown:
        snapshot.forget(instance, unknown)


def record_delete(sender: type[Model], *, instance: Model, using: str, **kwargs: Any) -> None:
    plan = _plans.get(sender)
    if plan is None:
        return
    connection = connections[using]
    old = snapshot.base(instance, connection)
    # Without a snapshot the instance's values are the best known. With a partial
    # one, a value it lacks was never read from the database (assigned and not
    # saved, or its read failed): unknown.
    known = old is None or not snapshot.is_partial(instance)
    old = old or {}
    values = instance.__dict__
    changes = {}
    for name, attname, encode in plan.encoders:
        if attname in old:
            value = old[attname]
        elif attname in values and attname not in plan.generated:
            # (A generated value the snapshot left out is not the row's.)
            value = values[attname] if known else None
        else:
            continue
        try:
            changes[name] = [encode(value), None]
        except Unresolved:  # an expression assigned and never saved: not the row's
            changes[name] = [None, None]
    event = for_instance("delete", plan.label, instance, using, changes, connection)
    saves.deleted(instance, event.object_pk)  # (a save of it may be in progress)
    emit(event, using, connection)


def record_m2m(
    sender: type[Model],
    *,
    instance: Model,
    action: str,
    reverse: bool,
    model: type[Model],
    pk_set: set[Any] | None,
    using: str,
    **kwargs: Any,
) -> None:
    if action == "pre_add" or kwargs.get("raw"):
        return  # an add is recorded at post_add, with the pks Django really added
    if _FLAG_RAW and not reverse and instance.__dict__.get(RAW_LOADED):
        return  # the links of an object loaded from a fixture (Django < 6.1)
    known = _m2m.get(sender)
    if known is None:
        return
    # The audited object: ``instance``, or on the reverse side the objects in
    # ``pk_set``, which belong to the model declaring the field.
    declaring = _plans.get(known.model)
    plan = declaring if reverse else _plans.get(type(instance))
    field = None if plan is None else plan.m2m_for(sender)
    if plan is not None and field is not None:
        many_to_many.record(action, field, plan, instance, reverse, pk_set, using, declaring)


_connected: list[tuple[Any, Any, type[Model], str]] = []


def connect() -> None:
    """(Re)connect the receivers for the models in ``SIGNALKIT["AUDIT"]["MODELS"]``."""
    disconnect()
    audit = get_settings().audit
    warn_dropped(audit.models)
    plans = build(audit)
    _plans.update(plans)
    refresh.patch(plans, _plans.get)
    saves.patch(plans)
    bulk.patch(plans)
    for model, plan in plans.items():
        for signal, func in (
            (post_init, take_snapshot),
            (pre_save, check_snapshot),
            (post_save, record_save),
            (pre_delete, check_snapshot),
            (post_delete, record_delete),
        ):
            _connect(signal, func, model)
        for field in plan.m2m:
            if field.through not in _m2m:
                _m2m[field.through] = field
                _connect(m2m_changed, record_m2m, field.through)


def _connect(signal: Any, func: Any, sender: type[Model]) -> None:
    uid = f"signalkit.audit.receivers.{func.__name__}"
    signal.connect(func, sender=sender, dispatch_uid=uid)
    _connected.append((signal, func, sender, uid))


def disconnect() -> None:
    while _connected:
        signal, func, sender, uid = _connected.pop()
        signal.disconnect(func, sender=sender, dispatch_uid=uid)
    refresh.unpatch()
    saves.unpatch()
    bulk.unpatch()
    _plans.clear()
    _m2m.clear()
    many_to_many.reset()
