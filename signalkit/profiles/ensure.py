"""Get-or-create of one user's profile, safe against duplicates and races."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, router, transaction
from django.db.models import Model

from signalkit.profiles.config import ProfileConfig, require
from signalkit.profiles.parents import adopt_existing


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
    does). ``DEFAULTS`` is only called when a profile is created. A
    multi-table profile whose parent row the user already has is created on
    that row (see :mod:`signalkit.profiles.parents`).
    """
    config = config or require()
    if not _is_saved(user):
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
                profile = config.model(**values)
                # A multi-table profile whose parent row the user already has.
                adopt_existing(config, [profile], db)
                profile.save(force_insert=True, using=db)
        except IntegrityError:
            found = _winner(manager, lookup, db)
            if found is None:
                raise  # not a duplicate: another constraint rejected the profile
            profile = found
        else:
            _cache(config, user, profile)
            return profile, True
    _cache(config, user, profile)
    return profile, False


def _winner(manager: Any, lookup: dict[str, Any], db: str) -> Any:
    """The profile that a concurrent transaction inserted first, or ``None``."""
    found = manager.filter(**lookup).first()
    connection = transaction.get_connection(db)
    if found is None and connection.in_atomic_block and connection.features.has_select_for_update:
        # In a REPEATABLE READ transaction (MySQL's and MariaDB's own default,
        # used with OPTIONS {"isolation_level": "repeatable read"}), a plain
        # SELECT reads the snapshot taken at the transaction's first read,
        # before the winner committed: it misses the row that the insert
        # collided with. A locking read reads the latest committed row.
        found = manager.select_for_update().filter(**lookup).first()
    return found


def _is_saved(user: Any) -> bool:
    # A primary key with a default (a UUID) is set when the user is built, so
    # ``pk is None`` does not tell. An instance loaded or saved by Django is no
    # longer ``adding``; one built by hand with the key of an existing row
    # (``User(pk=5)``) still is, and is a saved user when that row exists.
    if user.pk is None:
        return False
    if not user._state.adding:
        return True
    model = type(user)
    db = router.db_for_write(model, instance=user)
    return bool(model._base_manager.using(db).filter(pk=user.pk).exists())


def _cache(config: ProfileConfig, user: Any, profile: Any) -> None:
    # So that ``user.profile`` (one-to-one) and ``profile.user`` need no query.
    config.field.set_cached_value(profile, user)
    if _user_caches_profile(config):
        config.field.remote_field.set_cached_value(user, profile)


def _user_caches_profile(config: ProfileConfig) -> bool:
    """Whether the user's reverse accessor (``user.profile``) gives instances of the profile model.

    Not when the field is declared on a multi-table parent of the profile model
    (or the profile model is a proxy): the accessor gives the parent's (or the
    concrete model's) instances, which are not profiles.
    """
    field = config.field
    return field.one_to_one and not field.remote_field.hidden and field.model is config.model


def get_profile(user: Any) -> Any:
    """The profile of ``user``, created (with ``DEFAULTS``) when missing.

    It is looked up and created on ``router.db_for_write(profile_model, instance=user)``:
    the user's database unless a router says otherwise. Raises ``ValueError``
    for a user that is not saved (an instance built by hand is saved when a row
    with its primary key exists).
    """
    config = require()
    if not isinstance(user, Model):
        # (request.user of an anonymous request: an AttributeError on _state otherwise.)
        raise ValueError(f"Cannot get the profile of {user!r}: it is not a saved user.")
    if _user_caches_profile(config):
        cached = config.field.remote_field.get_cached_value(user, default=None)
        if cached is not None:
            return cached
    return ensure_profile(user, config=config)[0]


async def aget_profile(user: Any) -> Any:
    """The async form of :func:`get_profile`."""
    return await sync_to_async(get_profile)(user)
