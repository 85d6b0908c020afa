"""Create the profiles that are missing: users created before ``PROFILE`` was
set, loaded from fixtures, or made with ``bulk_create`` (which sends no signals)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction

from signalkit.profiles.config import ProfileConfig, require, user_model
from signalkit.profiles.parents import adopt_existing

#: How often one batch is retried when a concurrent request created one of its profiles.
RETRIES = 3


def missing(config: ProfileConfig, using: str) -> models.QuerySet[Any]:
    """Users without a profile on ``using``, in primary key order."""
    field = config.field
    has_profile = config.model._base_manager.using(using).filter(
        **{field.attname: models.OuterRef(field.target_field.attname)}
    )
    return (
        user_model()._base_manager.using(using).filter(~models.Exists(has_profile)).order_by("pk")
    )


def count_missing(*, using: str = "default") -> int:
    """How many users have no profile (what :func:`create_missing` would create)."""
    return missing(require(), using).count()


def create_missing(*, using: str = "default", batch_size: int = 1000) -> int:
    """Create every missing profile on ``using`` with ``DEFAULTS`` applied; return how many.

    Users are read in primary key order, ``batch_size`` at a time, and each
    batch's profiles are written with one ``bulk_create`` in a savepoint: a
    profile created concurrently (by sign-up or :func:`get_profile`) rolls back
    only that batch, which is then selected and written again without it.
    Profiles created here send no ``post_save`` (``bulk_create`` sends none),
    except those of a multi-table child model, which ``bulk_create`` refuses:
    they are saved one by one, still a batch per savepoint, each on the
    existing parent row of its user when there is one.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size is {batch_size}; it must be at least 1.")
    config = require()
    write = _save_each if _is_multi_table(config.model) else _bulk_create
    created = 0
    last_pk: Any = None
    while True:
        for attempt in range(RETRIES + 1):
            users = _batch(config, using, last_pk, batch_size)
            if not users:
                return created
            profiles = [_new_profile(config, user) for user in users]
            try:
                with transaction.atomic(using=using):
                    write(config, profiles, using)
            except IntegrityError as error:
                if attempt == RETRIES:
                    # Not a race with a sign-up: a profile the database refuses.
                    raise IntegrityError(
                        f"A batch of {len(users)} profile(s) was refused {RETRIES + 1} times: "
                        f"{error} ({created} profile(s) of earlier batches were created.)"
                    ) from error
                continue
            created += len(users)
            last_pk = users[-1].pk
            break


def _is_multi_table(model: type[models.Model]) -> bool:
    # A child of a concrete model, or a proxy of one: its rows span several tables.
    return bool(model._meta.concrete_model._meta.parents)  # type: ignore[union-attr]


def _bulk_create(config: ProfileConfig, profiles: list[models.Model], using: str) -> None:
    config.model._base_manager.using(using).bulk_create(profiles, batch_size=len(profiles))


def _save_each(config: ProfileConfig, profiles: list[models.Model], using: str) -> None:
    adopt_existing(config, profiles, using)
    for profile in profiles:
        profile.save(using=using, force_insert=True)


def _batch(config: ProfileConfig, using: str, last_pk: Any, size: int) -> list[Any]:
    queryset = missing(config, using)
    if last_pk is not None:
        queryset = queryset.filter(pk__gt=last_pk)
    if config.defaults is None:
        # Only the key is needed: skip loading whole user rows.
        queryset = queryset.only(config.field.target_field.attname)
    return list(queryset[:size])


def _new_profile(config: ProfileConfig, user: Any) -> models.Model:
    values = {**config.values_for(user), config.field.name: user}
    return config.model(**values)
