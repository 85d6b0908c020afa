from __future__ import annotations

from django.apps import AppConfig


class ManyModelsConfig(AppConfig):
    """200 models and 1,000 receivers, for the introspection benchmark."""

    name = "tests.benchmarks.manymodels"
    label = "manymodels"
    default_auto_field = "django.db.models.BigAutoField"
