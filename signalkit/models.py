"""The audit log table: :class:`AuditEvent`, append-only."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.sql import Query
from django.utils import timezone

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler


class AuditLogImmutableError(Exception):
    """Raised when code tries to change or delete recorded audit events."""


_IMMUTABLE = (
    "Audit events are append-only: they cannot be changed or deleted through the ORM. "
    "Use 'manage.py auditprune --before DATE' to delete old events."
)


class AuditEventQuery(Query):
    """Writes the audit events still waiting for their transaction's commit
    before the log is read on that database, so the transaction sees them."""

    def get_compiler(
        self,
        using: str | None = None,
        connection: BaseDatabaseWrapper | None = None,
        elide_empty: bool = True,
    ) -> SQLCompiler:
        # A subquery is compiled with the outer query's connection, not an alias.
        alias = using if using is not None else getattr(connection, "alias", None)
        if alias is not None:
            from signalkit.audit.pending import write_waiting

            write_waiting(alias)
        compiler: SQLCompiler = super().get_compiler(using, connection, elide_empty)
        return compiler


_BULK_CREATE = inspect.signature(models.QuerySet.bulk_create)


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def __init__(
        self,
        model: type[AuditEvent] | None = None,
        query: Query | None = None,
        using: str | None = None,
        hints: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(model, query or AuditEventQuery(model), using, hints)

    def update(self, **kwargs: Any) -> int:
        raise AuditLogImmutableError(_IMMUTABLE)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogImmutableError(_IMMUTABLE)

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AuditLogImmutableError(_IMMUTABLE)

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[AuditEvent]:
        # Bound as Django's own signature binds them: update_conflicts may come
        # by position too.
        arguments = _BULK_CREATE.bind(self, *args, **kwargs).arguments
        if arguments.get("update_conflicts"):
            raise AuditLogImmutableError(_IMMUTABLE)  # an upsert overwrites events
        return super().bulk_create(*args, **kwargs)

    def _prune(self) -> int:
        # The private path used by ``auditprune``: one DELETE, no collection.
        deleted: int = self._raw_delete(self.db)
        return deleted


class AuditEvent(models.Model):
    """One recorded change: who did what to which object, when."""

    occurred_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=32)
    model_label = models.CharField(max_length=100, blank=True)
    object_pk = models.CharField(max_length=255, blank=True)
    object_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # A string, not a foreign key: deleting a user never deletes history.
    actor_id = models.CharField(max_length=255, blank=True)
    actor_repr = models.CharField(max_length=255, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    txid = models.CharField(max_length=32, blank=True)
    extra = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects: ClassVar[AuditEventQuerySet] = AuditEventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        # Django's internals (and code reaching for ``_base_manager``) use the
        # append-only queryset too.
        base_manager_name = "objects"
        verbose_name = "audit event"
        verbose_name_plural = "audit events"
        indexes = [
            models.Index(
                fields=["model_label", "object_pk", "occurred_at"], name="signalkit_audit_object"
            ),
            # The admin's filters, newest first. The key ends them so that a
            # page's keys come from the index alone (an index-only scan on
            # PostgreSQL; SQLite and InnoDB hold the key in every index anyway).
            models.Index(fields=["model_label", "occurred_at", "id"], name="signalkit_audit_model"),
            models.Index(fields=["actor_id", "occurred_at", "id"], name="signalkit_audit_actor"),
            models.Index(fields=["occurred_at"], name="signalkit_audit_time"),
            models.Index(fields=["action", "occurred_at", "id"], name="signalkit_audit_action"),
            models.Index(fields=["correlation_id"], name="signalkit_audit_correlation"),
        ]

    def __str__(self) -> str:
        target = f"{self.model_label} {self.object_pk}".strip()
        return f"{self.action} {target}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AuditLogImmutableError(_IMMUTABLE)
        super().save(*args, **kwargs)

    def _do_update(self, *args: Any, **kwargs: Any) -> bool:  # type: ignore[override]
        # Django tries an UPDATE before an INSERT when an unsaved instance has a
        # primary key: an event given a recorded one's key (``save()``, also
        # with positional arguments, ``loaddata``'s raw save) would overwrite
        # it. Reporting "no row updated" makes that an INSERT, which fails on
        # the taken key, and leaves a free key to be inserted.
        return False

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogImmutableError(_IMMUTABLE)
