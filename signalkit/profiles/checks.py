"""System checks for ``SIGNALKIT['PROFILE']`` (``signalkit.E010``-``signalkit.E013``)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register

from signalkit.conf import get_settings
from signalkit.profiles.config import resolve


@register(Tags.models)
def check_profile(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report a profile model, user field or ``DEFAULTS`` that cannot work."""
    settings = get_settings().profile
    if settings is None:  # unset, or malformed and reported by E003/E004
        return []
    _, problems = resolve(settings)
    return [Error(problem.message, hint=problem.hint, id=problem.id) for problem in problems]
