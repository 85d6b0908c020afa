"""Admin: a read-only audit log and ``AuditHistoryMixin`` for any ModelAdmin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import path, reverse

from signalkit.audit import history
from signalkit.models import AuditEvent

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet
    from django.http import HttpRequest, HttpResponse
    from django.urls import URLPattern


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Audit events, read-only: nobody can add, change or delete them here.

    Filters and search use indexed columns only (``action``, ``model_label``,
    ``actor_id``, ``occurred_at``; exact ``actor_id`` and ``correlation_id``).
    """

    list_display = (
        "occurred_at",
        "action",
        "model_label",
        "object_pk",
        "object_repr",
        "actor_repr",
        "remote_addr",
    )
    list_filter = ("action", "model_label", "actor_id", "occurred_at")
    search_fields = ("=actor_id", "=correlation_id")
    search_help_text = "Exact actor id or correlation id."
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at", "-pk")
    show_full_result_count = False
    actions = None

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent], search_term: str
    ) -> tuple[QuerySet[AuditEvent], bool]:
        # Exact matches only: the admin's "=" prefix means iexact, which no
        # plain index serves.
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(actor_id=term) | Q(correlation_id=term)), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditHistoryMixin:
    """Add an "Audit history" page (and a button on the change form) to a ModelAdmin.

    ``class PostAdmin(AuditHistoryMixin, admin.ModelAdmin): ...``
    """

    audit_history_template = "signalkit/admin/audit_history.html"
    change_form_template: ClassVar[Any] = "signalkit/admin/change_form.html"
    audit_history_limit = 500

    def get_urls(self) -> list[URLPattern]:
        model_admin: Any = self
        opts = model_admin.opts
        name = f"{opts.app_label}_{opts.model_name}_audit_history"
        view = model_admin.admin_site.admin_view(self.audit_history_view)
        urls: list[URLPattern] = super().get_urls()  # type: ignore[misc]
        return [path("<path:object_id>/audit-history/", view, name=name), *urls]

    def audit_history_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        model_admin: Any = self
        obj: Model | None = model_admin.get_object(request, unquote(object_id))
        if obj is None:
            response: HttpResponse = model_admin._get_obj_does_not_exist_redirect(
                request, model_admin.opts, object_id
            )
            return response
        if not model_admin.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        events = list(history(obj).reverse()[: self.audit_history_limit])
        context = {
            **model_admin.admin_site.each_context(request),
            "title": f"Audit history: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": model_admin.opts,
            "events": events,
            "limit": self.audit_history_limit,
        }
        return TemplateResponse(request, self.audit_history_template, context)


def audit_history_url(obj: Model, site: str = "admin") -> str:
    """The URL of ``obj``'s audit history page."""
    opts = obj._meta
    # Quoted as the admin quotes keys in its URLs (the view unquotes it).
    name = f"{site}:{opts.app_label}_{opts.model_name}_audit_history"
    return reverse(name, args=[quote(obj.pk)])
