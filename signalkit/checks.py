"""System checks for the ``SIGNALKIT`` setting (IDs listed in ``docs/checks.rst``)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from signalkit.conf import get_settings, raw_settings
from signalkit.labels import unknown_app_hint
from signalkit.validation import problems
from signalkit.validators import CHECK_IDS


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report every invalid part of ``SIGNALKIT`` (E001-E004)."""
    return [
        Error(problem.message, hint=problem.hint, id=CHECK_IDS[problem.kind])
        for problem in problems(raw_settings())
    ]


@register(Tags.compatibility)
def check_autodiscover_exclude(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn about excluded app labels that are not installed (W001)."""
    labels = {config.label for config in apps.get_app_configs()}
    return [
        Warning(
            f"SIGNALKIT['AUTODISCOVER_EXCLUDE'] names {label!r}, which is not an installed app label.",
            hint=_exclude_hint(label, labels),
            id="signalkit.W001",
        )
        for label in sorted(get_settings().autodiscover_exclude - labels)
    ]


def _exclude_hint(label: str, labels: set[str]) -> str:
    # An app's module path or INSTALLED_APPS entry in place of its label: name
    # the label, as Django's own messages about labels do not.
    suggestion = unknown_app_hint(label).strip()
    return suggestion or f"Installed labels: {', '.join(sorted(labels))}."
