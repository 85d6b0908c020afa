from __future__ import annotations

from django.contrib import admin

from signalkit.admin import AuditHistoryMixin
from tests.auditapp.models import Account


@admin.register(Account)
class AccountAdmin(AuditHistoryMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass
