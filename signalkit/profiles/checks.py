"""System checks for ``SIGNALKIT['PROFILE']`` (``signalkit.E010``-``signalkit.E014``)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings as django_settings
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


@register(Tags.admin)
def check_profile_inline(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``ProfileInline`` in an admin while ``PROFILE`` is unset: Django's own
    admin.E105 ("must have a 'model' attribute") does not say which setting
    gives the inline its model."""
    if not apps.is_installed("django.contrib.admin"):
        return []
    raw = getattr(django_settings, "SIGNALKIT", {})
    if not isinstance(raw, dict) or raw.get("PROFILE") is not None:
        return []  # set (checked by E010-E013), or malformed (E001)
    from django.contrib.admin.sites import all_sites

    from signalkit.profiles.admin import ProfileInline

    checked = None if app_configs is None else set(app_configs)
    errors: list[CheckMessage] = []
    for site in all_sites:
        for model, model_admin in site._registry.items():
            if checked is not None and model._meta.app_config not in checked:
                continue  # (as Django's own admin checks)
            for inline in model_admin.inlines:
                if (
                    isinstance(inline, type)
                    and issubclass(inline, ProfileInline)
                    and getattr(inline, "model", None) is None  # (typed as never None)
                ):
                    errors.append(
                        Error(
                            f"{inline.__module__}.{inline.__qualname__} is in the admin "
                            f"of {model._meta.label} (site {site.name!r}), but "
                            "SIGNALKIT['PROFILE'] is not set: the inline has no profile model.",
                            hint="Set SIGNALKIT['PROFILE'] (see the profiles guide), or "
                            "set 'model' and 'fk_name' on a subclass of ProfileInline.",
                            obj=model_admin,
                            id="signalkit.E014",
                        )
                    )
    return errors
