from __future__ import annotations

from django.apps import AppConfig


class TestingAppConfig(AppConfig):
    name = "tests.testingapp"
    label = "testingapp"
    default_auto_field = "django.db.models.BigAutoField"
