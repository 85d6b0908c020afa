"""Admin: a read-only audit log and ``AuditHistoryMixin`` for any ModelAdmin."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.loader import get_template, select_template
from django.template.loader_tags import ExtendsNode
from django.template.response import TemplateResponse
from django.urls import path, reverse

from signalkit.audit import history
from signalkit.models import AuditEvent

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.db.models import Model, QuerySet
    from django.http import HttpRequest, HttpResponse
    from django.urls import URLPattern


# The actions signalkit records; custom ones (record()) still filter by URL.
ACTIONS = (
    "create",
    "update",
    "delete",
    "m2m_add",
    "m2m_remove",
    "m2m_clear",
    "login",
    "logout",
    "login_failed",
)


class _ExactFilter(admin.SimpleListFilter):
    """An exact match on ``parameter_name``. The choices never come from the
    table: a ``SELECT DISTINCT`` on every page view reads the whole log."""

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(**{str(self.parameter_name): value}) if value else queryset


class ActionFilter(_ExactFilter):
    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(action, action) for action in ACTIONS]


class ModelFilter(_ExactFilter):
    title = "model"
    parameter_name = "model_label"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # The audited models (from the settings) and the user model (auth events).
        from signalkit.audit.receivers import audited_labels

        return [(label, label) for label in audited_labels()]


class ActorFilter(_ExactFilter):
    """A text box: an actor list would have to read every actor in the log."""

    title = "actor id"
    parameter_name = "actor_id"
    template = "signalkit/admin/input_filter.html"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return []

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:  # type: ignore[override]
        # One entry, for input_filter.html: what the form submits besides the actor id.
        yield {
            "value": self.value() or "",
            "preserved": [
                (name, value)
                for name, values in changelist.filter_params.items()
                if name != self.parameter_name
                for value in values  # a parameter may repeat
            ],
        }


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Audit events, read-only: nobody can add, change or delete them here.

    Filters and search use indexed columns only (``action``, ``model_label``,
    ``actor_id``, ``occurred_at``; exact ``actor_id`` and ``correlation_id``), and
    no filter reads the table to list its choices.
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
    list_filter = (ActionFilter, ModelFilter, ActorFilter, "occurred_at")
    search_fields = ("=actor_id", "=correlation_id")
    search_help_text = "Exact actor id or correlation id."
    ordering = ("-occurred_at", "-pk")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
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


_BUTTON_TEMPLATE = "signalkit/admin/change_form.html"


def _extends_button(template: Any) -> bool:
    """Whether ``template`` (a name or a loaded template) is, or extends by name,
    the button template: a ModelAdmin's own form built on it has the button."""
    seen: set[str] = set()
    while template is not None:
        if isinstance(template, str):
            if template in seen:
                return False
            seen.add(template)
            template = get_template(template)
        inner = getattr(template, "template", template)  # the backend's wrapper
        if inner.origin.template_name == _BUTTON_TEMPLATE:
            return True
        extends = inner.nodelist.get_nodes_by_type(ExtendsNode)
        parent = extends[0].parent_name.var if extends else None
        template = parent if isinstance(parent, str) else None  # not a variable
    return False


class AuditHistoryMixin:
    """Add an "Audit history" page (and a button on the change form) to a ModelAdmin.

    ``class PostAdmin(AuditHistoryMixin, admin.ModelAdmin): ...``
    """

    audit_history_template = "signalkit/admin/audit_history.html"
    audit_history_limit = 500

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Model | None = None,
    ) -> HttpResponse:
        # The "Audit history" button wraps whichever template Django chose (the
        # ModelAdmin's change_form_template, admin/<app>/<model>/change_form.html,
        # ...), so those keep working.
        response: TemplateResponse = super().render_change_form(  # type: ignore[misc]
            request, context, add, change, form_url, obj
        )
        if obj is None or response.is_rendered:
            return response
        chosen = response.template_name
        parent = select_template(chosen) if isinstance(chosen, list | tuple) else chosen
        if not _extends_button(parent):
            response.template_name = _BUTTON_TEMPLATE
            response.context_data = {
                **(response.context_data or {}),
                "signalkit_change_form": parent,
            }
        return response

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
        for event in events:
            # Shown as stored (JSON: null, true, "text"), not as Python reprs.
            event.change_rows = [  # type: ignore[attr-defined]
                (name, json.dumps(value, ensure_ascii=False))
                for name, value in event.changes.items()
            ]
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
