from __future__ import annotations

from typing import Any

from django.contrib import admin, messages

from blog.models import Comment, Post, Subscriber, Tag
from signalkit.admin import AuditHistoryMixin


@admin.register(Post)
class PostAdmin(AuditHistoryMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """The "Audit history" button on a post shows what signalkit recorded for it."""

    list_display = ["title", "slug", "published", "created"]
    list_filter = ["published", "tags"]
    # The history page shows the fields the change form shows: read-only ones too.
    readonly_fields = ["created"]
    actions = ["publish"]

    @admin.action(description="Publish the selected posts (e-mails subscribers after commit)")
    def publish(self, request: Any, queryset: Any) -> None:
        for post in queryset:
            post.publish()
        messages.success(request, "Published; see the console for the e-mails.")


admin.site.register(Tag)
admin.site.register(Comment)
admin.site.register(Subscriber)
