from __future__ import annotations

from django.contrib import admin

from signalkit.admin import AuditHistoryMixin
from tests.auditapp.models import Account, Ticket


@admin.register(Account)
class AccountAdmin(AuditHistoryMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


@admin.register(Ticket)
class TicketAdmin(AuditHistoryMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass
