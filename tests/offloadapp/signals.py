"""Offloaded receivers; each writes an Effect row on the signal's database."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

import signalkit
from tests.offloadapp.models import Article, Effect

article_event = signalkit.Signal(
    "article_event",
    doc="A custom signal with values JSON cannot carry.",
    args=("article", "values", "using"),
)


def _describe(value: Any) -> Any:
    # Type and value, in a form that does not depend on set ordering.
    if isinstance(value, dict):
        return ["dict", {key: _describe(item) for key, item in value.items()}]
    if isinstance(value, set | frozenset):
        return [type(value).__name__, repr(sorted(value))]
    return [type(value).__name__, repr(value)]


@signalkit.receiver(post_save, sender=Article, offload=True)
def record_save(
    sender: type[Article],
    *,
    instance: Article | None,
    created: bool,
    update_fields: frozenset[str] | None,
    using: str,
    idempotency_key: str,
    **kwargs: Any,
) -> None:
    Effect.objects.using(using).create(
        receiver="record_save",
        object_pk="" if instance is None else str(instance.pk),
        data={
            "sender": sender._meta.label,
            "title": None if instance is None else instance.title,
            "created": created,
            "update_fields": _describe(update_fields),
            "idempotency_key": idempotency_key,
        },
    )


@signalkit.receiver(post_delete, sender=Article, offload=True)
def record_delete(sender: type[Article], *, instance: Article, using: str, **kwargs: Any) -> None:
    Effect.objects.using(using).create(
        receiver="record_delete",
        object_pk=str(instance.pk),
        data={
            "title": instance.title,
            "price": _describe(instance.price),
            "published_at": _describe(instance.published_at),
            "adding": instance._state.adding,
        },
    )


@signalkit.receiver(article_event, offload=True)
def record_event(sender: Any, *, article: Article, values: Any, using: str, **kwargs: Any) -> None:
    Effect.objects.using(using).create(
        receiver="record_event",
        object_pk=str(article.pk),
        data={"sender": _describe(sender), "values": _describe(values)},
    )
