from __future__ import annotations

from django.apps import AppConfig


class AuditAppConfig(AppConfig):
    name = "tests.auditapp"
    label = "auditapp"
    default_auto_field = "django.db.models.BigAutoField"
