from __future__ import annotations

from django.apps import AppConfig


class RegistryAppConfig(AppConfig):
    name = "tests.registryapp"
    label = "registryapp"
    default_auto_field = "django.db.models.BigAutoField"
