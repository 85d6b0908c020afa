from __future__ import annotations

from django.contrib import admin

from blog.models import Post
from signalkit.admin import AuditHistoryMixin


@admin.register(Post)
class PostAdmin(AuditHistoryMixin, admin.ModelAdmin):
    list_display = ["title", "slug", "created"]
