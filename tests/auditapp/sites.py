"""Admin sites other than the default one: a proxy registered instead of its
concrete model, and a ``ModelAdmin`` that reads another database."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import path

from signalkit.admin import AuditEventAdmin, AuditHistoryMixin
from signalkit.models import AuditEvent
from tests.auditapp.models import Ticket, VipAccount

proxy_site = admin.AdminSite(name="proxysite")
proxy_site.register(AuditEvent, AuditEventAdmin)


@admin.register(VipAccount, site=proxy_site)
class VipAccountAdmin(AuditHistoryMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


other_site = admin.AdminSite(name="othersite")


@admin.register(Ticket, site=other_site)
class OtherTicketAdmin(AuditHistoryMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Django's documented pattern for an admin of another database; it also
    hides some rows."""

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).using("other").exclude(title="hidden")


urlpatterns = [path("proxy/", proxy_site.urls), path("other/", other_site.urls)]
