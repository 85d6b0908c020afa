from __future__ import annotations

from django.apps import AppConfig


class BrokenConfig(AppConfig):
    """The app under a label that its package name is not."""

    name = "tests.discovery.brokenapp"
    label = "broken"
    default = False  # (listed as "tests.discovery.brokenapp", the app keeps its own label)
