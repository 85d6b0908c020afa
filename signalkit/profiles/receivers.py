"""The ``post_save`` receiver that gives every new user a profile.

Its toggle key is ``signalkit.profiles.receivers.create_profile``.

It is connected once, for every sender, and keeps only saves of the user model
(or a proxy of it, which Django names as the sender): a per-model connection
would miss proxies and custom user models swapped in later (``AUTH_USER_MODEL``
under ``override_settings``), and ``post_save`` has no fast path that a catch-all
receiver would switch off. For other models it costs one call that returns at
its first line unless ``PROFILE`` is set.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_save

from signalkit.conf import get_settings
from signalkit.profiles.config import current
from signalkit.profiles.ensure import ensure_profile

#: The toggle key of :func:`create_profile` (``SIGNALKIT['RECEIVERS']``).
KEY = "signalkit.profiles.receivers.create_profile"
DISPATCH_UID = KEY

_labels: dict[Any, str | None] = {}


def create_profile(sender: Any, **kwargs: Any) -> None:
    """Create the profile of a user that was just created (not for fixtures: ``raw``).

    Connected for every sender, so it reads its arguments defensively: code that
    sends ``post_save`` by hand for other models may leave some out.
    """
    if not kwargs.get("created") or kwargs.get("raw"):
        return
    if get_settings().profile is None:
        return
    if _concrete_label(sender) != django_settings.AUTH_USER_MODEL.lower():
        return
    config = current()
    if config is not None:
        ensure_profile(
            kwargs["instance"], using=kwargs.get("using") or DEFAULT_DB_ALIAS, config=config
        )


def _concrete_label(sender: Any) -> str | None:
    # Runs for every model's saves: the label of a class never changes, so it is
    # computed once per sender.
    try:
        return _labels[sender]
    except KeyError:
        meta = getattr(sender, "_meta", None)
        label = None if meta is None else meta.concrete_model._meta.label_lower
        _labels[sender] = label
        return label


def connect() -> None:
    """Connect :func:`create_profile` to ``post_save`` (idempotent)."""
    post_save.connect(create_profile, dispatch_uid=DISPATCH_UID)
