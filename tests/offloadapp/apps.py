from __future__ import annotations

from django.apps import AppConfig


class OffloadAppConfig(AppConfig):
    name = "tests.offloadapp"
    label = "offloadapp"
    default_auto_field = "django.db.models.BigAutoField"
