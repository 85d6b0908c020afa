"""Receivers of the blog app.

Nothing imports this module by hand: signalkit's autodiscovery does, at start-up.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils.text import slugify

import signalkit
from blog.models import Comment, Post, Subscriber

logger = logging.getLogger(__name__)

POST_LIST_CACHE_KEY = "blog:post_list"

#: A documented custom signal; ``strict`` checks its arguments at every send.
post_published = signalkit.define_signal(
    "post_published",
    doc="A post became visible to readers.",
    args=["post"],
    strict=True,
)


@signalkit.receiver(pre_save, sender=Post)
def fill_slug(sender: type[Post], *, instance: Post, raw: bool, **kwargs: Any) -> None:
    """Give every post a slug made from its title (not for fixtures: ``raw``)."""
    if not raw and not instance.slug:
        instance.slug = slugify(instance.title)


@signalkit.receiver([post_save, post_delete], sender=Post)
def invalidate_post_list(sender: type[Post], **kwargs: Any) -> None:
    """Cache updates: forget the cached post list whenever a post changes."""
    cache.delete(POST_LIST_CACHE_KEY)


@signalkit.receiver(m2m_changed, sender=Post.tags.through)
def invalidate_on_tags(sender: Any, *, action: str, **kwargs: Any) -> None:
    if action.startswith("post_"):
        cache.delete(POST_LIST_CACHE_KEY)


@signalkit.receiver(
    post_published,
    # After commit, in this process -- or, with EXAMPLE_OFFLOAD=1, on a task worker
    # (offloaded receivers are enqueued after commit too).
    on_commit=not settings.EXAMPLE_OFFLOAD,
    offload=settings.EXAMPLE_OFFLOAD,
)
def notify_followers(sender: type[Post], *, post: Post, **kwargs: Any) -> None:
    """E-mail every subscriber -- only once the post is committed."""
    recipients = list(Subscriber.objects.values_list("email", flat=True))
    if recipients:
        send_mail(f"New post: {post.title}", post.body[:200], None, recipients)


@signalkit.receiver(post_save, sender=Comment)
def ping_moderators(
    sender: type[Comment], *, instance: Comment, created: bool, **kwargs: Any
) -> None:
    """Switched off in settings (SIGNALKIT["RECEIVERS"]): it never runs in the demo."""
    if created:
        logger.warning("New comment to moderate: %s", instance)
