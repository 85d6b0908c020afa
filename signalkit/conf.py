"""The ``SIGNALKIT`` setting: one dict, merged over defaults, read at call time.

Values are validated by :mod:`signalkit.validation`; invalid parts are replaced
(:mod:`signalkit.fallbacks`) so that ``ready()`` never crashes, each replacement
is logged, and the system checks report them (``manage.py check`` refuses to
pass). An invalid ``PROFILE`` is not used, and its problems are kept so that the
code that needs it raises instead of acting as if it were not set.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from signalkit.fallbacks import usable
from signalkit.keys import is_bookkeeping
from signalkit.validation import DEFAULTS, section_problems

if TYPE_CHECKING:
    from signalkit.validators import Problem

SETTING_NAME = "SIGNALKIT"

logger = logging.getLogger("signalkit")


@dataclass(frozen=True)
class ProfileSettings:
    model: str
    user_field: str = "user"
    defaults: str | None = None


@dataclass(frozen=True)
class AuditSettings:
    models: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    exclude_fields: tuple[str, ...] = ()
    mask_fields: tuple[str, ...] = ()
    auth_events: bool = True
    trusted_proxies: tuple[str, ...] = ()
    on_error: str = "raise"


@dataclass(frozen=True)
class OffloadSettings:
    backend: str = "default"
    queue_name: str = "default"
    delivery: str = "on_commit"
    missing: str = "skip"


@dataclass(frozen=True)
class SignalkitSettings:
    autodiscover: bool
    autodiscover_modules: tuple[str, ...]
    autodiscover_exclude: frozenset[str]
    receivers: dict[str, bool]
    profile: ProfileSettings | None
    audit: AuditSettings
    offload: OffloadSettings
    #: What is wrong with the user's ``PROFILE`` (then ``profile`` is ``None``).
    profile_problems: tuple[Problem, ...] = ()

    @property
    def disabled_receivers(self) -> frozenset[str]:
        # signalkit's bookkeeping (this module's reset_settings among them) is
        # never switched off: without it, no later settings change would apply
        # (signalkit.W003).
        return frozenset(
            key
            for key, enabled in self.receivers.items()
            if not enabled and not is_bookkeeping(key)
        )


def raw_settings() -> object:
    """The user's ``SIGNALKIT`` value, as written (``{}`` when unset)."""
    return getattr(settings, SETTING_NAME, {})


def raw_audit_models() -> list[Any]:
    """The labels in the user's ``SIGNALKIT["AUDIT"]["MODELS"]``, valid or not."""
    raw = raw_settings()
    audit = raw.get("AUDIT") if isinstance(raw, dict) else None
    models = audit.get("MODELS") if isinstance(audit, dict) else None
    if isinstance(models, str):  # ("blog.Post") without its comma
        return [models]
    if isinstance(models, set | frozenset):
        return sorted(models, key=repr)
    return list(models) if isinstance(models, dict | list | tuple) else []


@cache
def get_settings() -> SignalkitSettings:
    """The effective settings: the user's valid values over the defaults."""
    raw = raw_settings()
    user, notes = usable(raw)
    for note in notes:
        # System checks report these too, but not every server runs them. Here,
        # in the cached build, each is logged once per change of the setting.
        logger.warning("%s; run 'manage.py check' for details.", note)
    merged: dict[str, Any] = {**DEFAULTS, **user}
    for section in ("AUDIT", "OFFLOAD"):
        merged[section] = {**DEFAULTS[section], **(user.get(section) or {})}
    return SignalkitSettings(
        autodiscover=merged["AUTODISCOVER"],
        autodiscover_modules=tuple(merged["AUTODISCOVER_MODULES"]),
        autodiscover_exclude=frozenset(merged["AUTODISCOVER_EXCLUDE"]),
        receivers=dict(merged["RECEIVERS"]),
        profile=_profile(merged["PROFILE"]),
        audit=_audit(merged["AUDIT"]),
        offload=OffloadSettings(
            backend=merged["OFFLOAD"]["BACKEND"],
            queue_name=merged["OFFLOAD"]["QUEUE_NAME"],
            delivery=merged["OFFLOAD"]["DELIVERY"],
            missing=merged["OFFLOAD"]["MISSING"],
        ),
        profile_problems=tuple(section_problems(raw, "PROFILE")),
    )


def _profile(value: dict[str, Any] | None) -> ProfileSettings | None:
    if not value or "MODEL" not in value:
        return None
    return ProfileSettings(
        model=value["MODEL"],
        user_field=value.get("USER_FIELD", "user"),
        defaults=value.get("DEFAULTS"),
    )


def _audit(value: dict[str, Any]) -> AuditSettings:
    models = value["MODELS"]
    if not isinstance(models, dict):
        models = {label: {} for label in models}
    return AuditSettings(
        models={label: dict(options or {}) for label, options in models.items()},
        # Added to the defaults, never instead of them: a project that masks
        # "*iban*" must not unmask its passwords by doing so.
        exclude_fields=_with_defaults("EXCLUDE_FIELDS", value),
        mask_fields=_with_defaults("MASK_FIELDS", value),
        auth_events=value["AUTH_EVENTS"],
        trusted_proxies=tuple(value["TRUSTED_PROXIES"]),
        on_error=value["ON_ERROR"],
    )


@receiver(setting_changed, dispatch_uid="signalkit.conf.reset_settings")
def reset_settings(*, setting: str, **kwargs: Any) -> None:
    """Forget the cached settings when ``override_settings`` changes them."""
    if setting == SETTING_NAME:
        # The one place that forgets the settings: each change builds (and
        # logs invalid values) once, however many readers follow it.
        get_settings.cache_clear()
        from signalkit.gate import refresh_toggles

        refresh_toggles()
        profiles = sys.modules.get("signalkit.profiles.receivers")
        if profiles is not None:  # imported at start-up: connected while PROFILE is set
            profiles.connect()
        audit = sys.modules.get("signalkit.audit")
        if audit is not None:  # imported by ready(): the audit receivers follow too
            audit.connect()


def _with_defaults(key: str, value: dict[str, Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*DEFAULTS["AUDIT"][key], *value[key]]))
