"""``AuditHistoryMixin``: an object's audit history page for any ``ModelAdmin``,
also once the object is deleted."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib.admin.sites import all_sites
from django.contrib.admin.utils import flatten_fieldsets, quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import get_template, select_template
from django.template.loader_tags import ExtendsNode
from django.template.response import TemplateResponse
from django.urls import path, reverse

from signalkit.audit import events_of, history

if TYPE_CHECKING:
    from django.contrib.admin import AdminSite
    from django.db.models import Model
    from django.http import HttpRequest, HttpResponse
    from django.urls import URLPattern

    from signalkit.models import AuditEventQuerySet


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
    #: Show the history of a deleted object (its URL, or a link from the audit
    #: log) to users with the view or change permission on the model. Set it to
    #: ``False`` when ``get_queryset()`` limits which objects a user may see: a
    #: deleted row can no longer be checked against it.
    audit_history_deleted = True

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
        opts = model_admin.opts
        obj: Model | None = model_admin.get_object(request, unquote(object_id))
        # Before any "does not exist" redirect, as the change view checks: a
        # user who may not see the model learns nothing of its keys.
        if not model_admin.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        if obj is not None:
            found = history(obj)
        else:
            deleted = self._deleted_history(request, unquote(object_id))
            if deleted is None:
                response: HttpResponse = model_admin._get_obj_does_not_exist_redirect(
                    request, opts, object_id
                )
                return response
            found = deleted
        events = list(found.reverse()[: self.audit_history_limit])
        if obj is not None:
            title = str(obj)
        else:  # a deleted object, named as its newest event names it
            title = f"{(events[0].object_repr if events else '') or object_id} (deleted)"
        hidden = self._hidden_fields(request, obj)
        for event in events:
            # (Events written before record() refused them may hold other JSON.)
            changes = event.changes if isinstance(event.changes, dict) else {"": event.changes}
            # Shown as stored (JSON: null, true, "text"), not as Python reprs.
            event.change_rows = [  # type: ignore[attr-defined]
                (name, json.dumps(value, ensure_ascii=False))
                for name, value in changes.items()
                if name not in hidden
            ]
            event.hidden_count = len(changes) - len(event.change_rows)  # type: ignore[attr-defined]
        context = {
            **model_admin.admin_site.each_context(request),
            "title": f"Audit history: {title}",
            "subtitle": None,
            "object": obj,
            "object_title": title,
            "opts": opts,
            "events": events,
            "limit": self.audit_history_limit,
        }
        return TemplateResponse(request, self.audit_history_template, context)

    def get_audit_history_fields(self, request: HttpRequest, obj: Model | None = None) -> set[str]:
        """The names of the fields whose values the history page shows: those the
        change form shows (``get_fieldsets()``, read-only fields included). ``obj``
        is ``None`` for a deleted object (the add form's fields then). Changes of
        the model's other fields are counted, not shown; keys that name no field
        of the model (``record(changes=...)``) are shown."""
        model_admin: Any = self
        return set(flatten_fieldsets(model_admin.get_fieldsets(request, obj)))

    def _hidden_fields(self, request: HttpRequest, obj: Model | None) -> set[str]:
        model_admin: Any = self
        opts = model_admin.opts
        shown = self.get_audit_history_fields(request, obj)
        fields = [*opts.concrete_fields, *opts.many_to_many]
        return {field.name for field in fields if field.name not in shown}

    def _deleted_history(self, request: HttpRequest, object_id: str) -> AuditEventQuerySet | None:
        """The events of an object that no longer exists, or ``None`` (the page
        redirects as for any missing object): when ``audit_history_deleted`` is
        off, when the key is not one of the model's, when the row exists but
        ``get_queryset()`` hides it from this user, or when nothing was logged."""
        model_admin: Any = self
        model = model_admin.opts.model
        if not self.audit_history_deleted:
            return None
        try:
            key = model._meta.pk.to_python(object_id)
        except (ValidationError, ValueError, TypeError):
            return None
        if key is None or not _exact(str(key)):
            return None
        # The database this admin reads from (get_queryset() may pick another).
        using = model_admin.get_queryset(request).db
        if model._base_manager.using(using).filter(pk=key).exists():
            return None  # not deleted: hidden from this user by get_queryset()
        found = events_of(model, key, using)
        return found if found.exists() else None


def _exact(key: str) -> bool:
    """Whether the log stores ``key`` as it is: not cut to the column's 255
    characters, no NUL replaced. Such a key could name another, existing row."""
    return len(key) < 255 and "\x00" not in key and "\ufffd" not in key


def history_url(site: AdminSite, label: str, key: str) -> str | None:
    """The audit history URL of the ``label`` object with primary key text
    ``key``, if that model's admin on ``site`` has one."""
    if not label or not key or not _exact(key):
        return None
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None  # a custom event's label, or a model since removed
    shown = _shown_as(site, model)
    if shown is None:
        return None
    opts = shown._meta
    return reverse(
        f"{site.name}:{opts.app_label}_{opts.model_name}_audit_history", args=[quote(key)]
    )


def _shown_as(site: AdminSite, model: type[Model]) -> type[Model] | None:
    """The model, or else one of its proxies, whose admin on ``site`` has the
    history page (events are logged under the concrete model)."""
    if isinstance(site._registry.get(model), AuditHistoryMixin):
        return model
    for registered, model_admin in site._registry.items():
        if registered._meta.concrete_model is model and isinstance(model_admin, AuditHistoryMixin):
            return registered
    return None


def audit_history_url(obj: Model, site: str = "admin") -> str:
    """The URL of ``obj``'s audit history page. Take it before deleting the
    object: ``delete()`` sets the primary key to ``None``."""
    if obj.pk is None:
        raise ValueError(
            f"{obj._meta.label} object has no primary key (unsaved, or deleted): "
            "it has no audit history URL. Take the URL before deleting the object."
        )
    model: type[Model] = type(obj)
    admin_site = next((each for each in all_sites if each.name == site), None)
    if admin_site is not None and not isinstance(
        admin_site._registry.get(model), AuditHistoryMixin
    ):
        # One history whichever class saved the object: a proxy's instance
        # links to its concrete model's page (or another proxy's) if it has none.
        model = _shown_as(admin_site, model._meta.concrete_model or model) or model
    opts = model._meta
    # Quoted as the admin quotes keys in its URLs (the view unquotes it).
    name = f"{site}:{opts.app_label}_{opts.model_name}_audit_history"
    return reverse(name, args=[quote(obj.pk)])
