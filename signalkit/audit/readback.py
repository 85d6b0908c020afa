"""Reading audited values back from the database, under ``ON_ERROR``.

The receivers read a row in four cases: the old values of fields deferred at
load time (before an update), the values an expression stored (after one), and
those of a row saved or deleted through an instance that has no snapshot of it.
A read that fails is an audit failure like a failed write: with ``"raise"`` the
change fails too, and cannot commit; with ``"log"`` it is logged and the change
goes on -- the read runs in a savepoint when in a transaction, so that
PostgreSQL does not abort it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connections, transaction
from django.db.models import Model

from signalkit.audit import buffer, hooks, saves, snapshot
from signalkit.audit.writer import fail_change, savepoint_if_in_transaction
from signalkit.conf import get_settings

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from signalkit.audit.plans import ModelPlan

logger = logging.getLogger("signalkit.audit")

_NOTHING = object()


def read_row(
    model: type[Model],
    pk: Any,
    attnames: list[str],
    using: str,
    connection: BaseDatabaseWrapper,
    lock: bool = False,
) -> dict[str, Any] | None:
    """The values of ``attnames`` in ``model``'s row ``pk``; ``None`` when the row
    is gone or (``ON_ERROR = "log"``) cannot be read. With ``lock``, in a
    transaction, the row is locked as read (``SELECT ... FOR UPDATE``, where the
    database has it): a change committed before the statement that follows
    cannot slip in between."""
    query = model._base_manager.using(using).filter(pk=pk).values(*attnames)
    lock = lock and connection.features.has_select_for_update
    if get_settings().audit.on_error == "raise":
        try:
            rows = _rows(query, lock, using, connection)
        except BaseException:
            fail_change(connection)  # as for a failed write: nothing commits
            raise
    else:
        try:
            with savepoint_if_in_transaction(using, connection):
                rows = _rows(query, lock, using, connection)
        except Exception:
            logger.exception(
                "signalkit could not read the audited values of %s %r", model._meta.label, pk
            )
            return None
    return dict(rows[0]) if rows else None


def _rows(query: Any, lock: bool, using: str, connection: BaseDatabaseWrapper) -> list[Any]:
    if lock and hooks.in_transaction(connection):
        try:
            # In a savepoint: PostgreSQL locks a row only for a role that may
            # update the table, and a role that may only delete must still
            # delete (read unlocked then, as without a lock).
            with transaction.atomic(using=using):
                return list(query.select_for_update()[:1])
        except DatabaseError:
            pass
    return list(query[:1])


def read_deferred(
    plan: ModelPlan | None,
    sender: type[Model],
    instance: Model,
    using: str,
    update_fields: frozenset[str] | None,
) -> None:
    """Complete ``instance``'s snapshot with the old values of the fields it
    lacks that this save writes (``plan``: ``sender``'s, if it is audited)."""
    # Fields deferred at load time and loaded or assigned since: their old
    # values are read now, before the UPDATE (one query, only in this case). So
    # are those still deferred that ``update_fields`` names: the save writes them
    # too, loading them itself once it writes, too late to become its old values
    # (see saves.keep()) -- or, for an ``auto_now`` field, without loading them.
    connection = connections[using]
    old = snapshot.base(instance, connection)
    if plan is None or old is None:
        return
    values = instance.__dict__
    missing = [
        attname
        for name, attname, _ in plan.encoders
        if attname not in old
        and attname in plan.tracked
        and (
            attname in values
            if update_fields is None
            else name in update_fields or attname in update_fields
        )
    ]
    row = read_row(sender, instance.pk, missing, using, connection) if missing else None
    if row is not None:
        if hooks.in_transaction(connection):
            # Read inside the transaction: valid only if it commits.
            snapshot.advance(instance, {**old, **row}, connection)
        else:
            old.update(row)


def read_saved(
    plan: ModelPlan,
    sender: type[Model],
    instance: Model,
    using: str,
    update_fields: frozenset[str] | None,
) -> None:
    """Before a save (``pre_save``, not raw), make sure the snapshot holds the old
    values it records: the fields a partial one lacks (see :func:`read_deferred`),
    or the whole row when ``instance`` has no snapshot of it -- made by
    ``bulk_create()``, built in memory (``Post(pk=1, title="x").save()``), loaded
    before the model was audited or while the audit's receivers were muted --
    and the save may update it. Without, every field it saves would be recorded
    as changed, from None."""
    state: snapshot.SnapshotState | None = instance.__dict__.get(snapshot.ATTRIBUTE)
    if state is not None and (
        state.committed is not None
        # Saved in this transaction: valid unless a rollback dropped it.
        or (
            state.pending is not None
            and snapshot.base(instance, buffer.connection_of(using)) is not None
        )
    ):
        if state.partial:
            read_deferred(plan, sender, instance, using, update_fields)
        return
    key = plan.row_key(instance.__dict__)
    if (
        key is not None
        and not (type(key) is tuple and None in key)
        and not _inserts(sender, instance)
    ):
        read_all(plan, sender, instance, using)


def _inserts(sender: type[Model], instance: Model) -> bool:
    """Whether the save in progress inserts without trying an ``UPDATE`` (as
    ``Model._save_table()`` decides): called with ``force_insert`` (as
    ``Manager.create()`` does), or of a new instance whose primary key, or a
    multi-table parent's, has a default. A row read then would not be updated."""
    if instance._state.adding:
        concrete = sender._meta.concrete_model or sender
        for model in (concrete, *concrete._meta.get_parent_list()):
            if all(
                field.has_default() or field.has_db_default() for field in model._meta.pk_fields
            ):
                return True
    # (Django's save_base() sends pre_save before it looks at the argument.)
    call = saves.save_call()
    return call is not None and bool(call.f_locals.get("force_insert"))


def read_deleted(
    plan: ModelPlan | None,
    sender: type[Model],
    instance: Model,
    using: str,
    origin: Any,
) -> None:
    """Before a delete (``pre_delete``), make sure the snapshot holds the row's
    values, which the delete's event records: read the row when the instance has
    no snapshot -- built in memory (``Post(pk=1).delete()``), loaded before the
    model was audited -- or when Django built it from a multi-table child being
    deleted (``origin``), whose values in memory need not be saved ones. (A
    snapshot of another row, the primary key given another's since, is read by
    ``check_snapshot()``.)"""
    if plan is None:
        return
    built = (
        isinstance(origin, Model)
        and origin is not instance
        and isinstance(origin, sender)
        # (By the parent's own key: a second parent's is not the child's pk.)
        and origin.__dict__.get(sender._meta.pk.attname, _NOTHING) == instance.pk
    )
    if not built:
        # (Told without looking the connection up: every delete comes here.)
        if snapshot.held(instance):
            if snapshot.is_partial(instance):
                read_deferred(plan, sender, instance, using, None)
            return
    else:
        instance.__dict__.pop(snapshot.ATTRIBUTE, None)  # (the child's values in memory)
        # The child's pre_delete came first: its snapshot, if complete, holds the
        # parent's fields as its row does (no read needed).
        connection = connections[using]
        held = snapshot.base(origin, connection)
        if (
            held is not None
            and not snapshot.is_partial(origin)
            and all(attname in held for attname in plan.attnames)
        ):
            values = {attname: held[attname] for attname in plan.attnames}
            _known(instance, values, plan, connection)
            return
    read_all(plan, sender, instance, using, lock=True)


def read_all(
    plan: ModelPlan, sender: type[Model], instance: Model, using: str, *, lock: bool = False
) -> None:
    """Make ``instance``'s snapshot what its row holds now, as a refresh does (the
    row gone or unreadable: nothing known). ``lock``: before a delete, which
    records what it read (see ``read_row()``)."""
    connection = connections[using]
    # (By the key of the row a save writes: a multi-table child's root parent's.)
    key = plan.row_key(instance.__dict__)
    row = read_row(sender, key, list(plan.attnames), using, connection, lock)
    _known(instance, row, plan, connection)


def _known(
    instance: Model, row: dict[str, Any] | None, plan: ModelPlan, connection: BaseDatabaseWrapper
) -> None:
    """Record ``row`` (None: gone or unreadable) as what the instance's row holds.
    Read inside a transaction, it may hold the transaction's own changes: valid
    only if it commits, as a save's new values are."""
    key = plan.row_key(instance.__dict__)
    if hooks.in_transaction(connection):
        snapshot.advance(instance, row or {}, connection, key)
        if row is None:
            snapshot.forget(instance, [])  # (partial: nothing is known)
    else:
        snapshot.refresh(instance, row or {}, row is not None, connection, key)
