from __future__ import annotations

from django.apps import AppConfig


class ProfilesAppConfig(AppConfig):
    name = "tests.profilesapp"
    label = "profilesapp"
    default_auto_field = "django.db.models.BigAutoField"
