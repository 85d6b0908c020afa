"""Receivers of the blog app, connected by signalkit's autodiscovery."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils.text import slugify

from blog.models import Post


@receiver(pre_save, sender=Post)
def fill_slug(sender: type[Post], *, instance: Post, raw: bool, **kwargs: Any) -> None:
    """Give every post a slug made from its title."""
    if not raw and not instance.slug:
        instance.slug = slugify(instance.title)
