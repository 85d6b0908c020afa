"""Get-or-create of one user's profile, safe against duplicates and races."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, router, transaction
from django.db.models import Model

from signalkit.profiles.config import ProfileConfig, require


def ensure_profile(
    user: Any, *, using: str | None = None, config: ProfileConfig | None = None
) -> tuple[Any, bool]:
    """``(profile, created)`` for ``user`` on database ``using``.

    Without ``using``, the database the routers pick for writing the profile
    (the user's own without routers): a user read from a replica must not get
    its profile written there, and the lookup must not miss a profile that has
    not reached the replica yet.

    The insert runs in a savepoint: when another request created the profile
    between our lookup and our insert, the unique constraint rejects ours, the
    savepoint rolls back, and we return theirs (as ``QuerySet.get_or_create``
    does). ``DEFAULTS`` is only called when a profile is created.
    """
    config = config or require()
    if user.pk is None:
        raise ValueError(f"Cannot get the profile of {user!r}: the user is not saved.")
    db = using or router.db_for_write(config.model, instance=user)
    manager = config.model._base_manager.db_manager(db)
    lookup = {config.field.name: user}
    try:
        profile = manager.get(**lookup)
    except ObjectDoesNotExist:
        values = {**config.values_for(user), **lookup}
        try:
            with transaction.atomic(using=db):
                profile = manager.create(**values)
        except IntegrityError:
            found = manager.filter(**lookup).first()
            if found is None:
                raise  # not a duplicate: another constraint rejected the profile
            profile = found
        else:
            _cache(config, user, profile)
            return profile, True
    _cache(config, user, profile)
    return profile, False


def _cache(config: ProfileConfig, user: Any, profile: Any) -> None:
    # So that ``user.profile`` (one-to-one) and ``profile.user`` need no query.
    config.field.set_cached_value(profile, user)
    if config.field.one_to_one and not config.field.remote_field.hidden:
        config.field.remote_field.set_cached_value(user, profile)


def get_profile(user: Any) -> Any:
    """The profile of ``user``, created (with ``DEFAULTS``) when missing.

    It is looked up and created on ``router.db_for_write(profile_model, instance=user)``:
    the user's database unless a router says otherwise.
    """
    config = require()
    if not isinstance(user, Model):
        # (request.user of an anonymous request: an AttributeError on _state otherwise.)
        raise ValueError(f"Cannot get the profile of {user!r}: it is not a saved user.")
    if config.field.one_to_one and not config.field.remote_field.hidden:
        cached = config.field.remote_field.get_cached_value(user, default=None)
        if cached is not None:
            return cached
    return ensure_profile(user, config=config)[0]


async def aget_profile(user: Any) -> Any:
    """The async form of :func:`get_profile`."""
    return await sync_to_async(get_profile)(user)
