from __future__ import annotations

from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"
    default_auto_field = "django.db.models.BigAutoField"
    # No ready() importing blog.signals: signalkit discovers it.
