from __future__ import annotations

from django.apps import AppConfig


class BenchAppConfig(AppConfig):
    name = "tests.benchmarks.benchapp"
    label = "benchapp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        if "auditlog" in settings.INSTALLED_APPS:
            from auditlog.registry import auditlog

            from tests.benchmarks.benchapp.models import AuditlogItem

            auditlog.register(AuditlogItem, m2m_fields={"tags"})
