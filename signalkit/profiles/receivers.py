"""The ``post_save`` receiver that gives every new user a profile.

Its toggle key is ``signalkit.profiles.receivers.create_profile``.

It is connected once ``PROFILE`` is set, for every sender, and keeps only
saves of the user model or of a subclass of it (a proxy, which Django names as the sender, or a
multi-table child, whose save also inserts a user row): a per-model connection
would miss those and custom user models swapped in later (``AUTH_USER_MODEL``
under ``override_settings``), and ``post_save`` has no fast path that a catch-all
receiver would switch off. For other models it costs one call that returns
early. Users that data migrations create (with historical models) get no profile
there: ``manage.py createprofiles`` creates them once migrated.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_save

from signalkit.conf import get_settings
from signalkit.profiles.config import current
from signalkit.profiles.ensure import ensure_profile

#: The toggle key of :func:`create_profile` (``SIGNALKIT['RECEIVERS']``).
KEY = "signalkit.profiles.receivers.create_profile"
DISPATCH_UID = KEY

_lineages: dict[Any, frozenset[str]] = {}


def create_profile(sender: Any, **kwargs: Any) -> None:
    """Create the profile of a user that was just created (not for fixtures: ``raw``).

    Connected for every sender, so it reads its arguments defensively: code that
    sends ``post_save`` by hand for other models may leave some out.
    """
    if not kwargs.get("created") or kwargs.get("raw"):
        return
    settings = get_settings()
    if settings.profile is None and not settings.profile_problems:
        return
    if django_settings.AUTH_USER_MODEL.lower() not in _lineage(sender):
        return
    # An invalid PROFILE raises here, naming the key: skipping the profile would
    # leave users without one, found out far from the cause.
    config = current()
    if config is not None:
        ensure_profile(
            kwargs["instance"], using=kwargs.get("using") or DEFAULT_DB_ALIAS, config=config
        )


def _lineage(sender: Any) -> frozenset[str]:
    """The labels of the concrete models ``sender`` is a subclass of (itself included)."""
    # Runs for every model's saves: a class's ancestors never change, so they are
    # computed once per sender; comparing labels keeps AUTH_USER_MODEL read per call.
    try:
        return _lineages[sender]
    except KeyError:
        meta = getattr(sender, "_meta", None)
        if meta is not None and meta.apps is not apps:
            # A migration's historical model (a data migration creating users):
            # the profile model may not be migrated yet, and its queries would
            # refuse the historical user. Not kept: each migration makes new ones.
            return frozenset()
        if meta is None:
            lineage: frozenset[str] = frozenset()
        else:
            concrete = meta.concrete_model
            lineage = frozenset(
                model._meta.label_lower for model in (concrete, *concrete._meta.get_parent_list())
            )
        _lineages[sender] = lineage
        return lineage


def connect() -> None:
    """Connect :func:`create_profile` to ``post_save`` once ``PROFILE`` is set (an
    invalid one too, so that it raises): a project without profiles pays nothing
    on its saves, and its listings do not show a receiver that does nothing.
    Idempotent; run again when the setting changes.

    Never disconnected: connected again, it would run after the receivers
    connected since, which may read the new user's profile (an
    ``override_settings`` without ``PROFILE`` would reorder them for every later
    test). Without ``PROFILE`` it returns early."""
    settings = get_settings()
    if settings.profile is not None or settings.profile_problems:
        post_save.connect(create_profile, dispatch_uid=DISPATCH_UID)
