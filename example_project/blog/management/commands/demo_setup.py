"""Create the demo admin user and a first post; safe to run again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from blog.models import Post


class Command(BaseCommand):
    help = "Create the demo admin user (admin/admin) and a first post, if missing."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username="admin").exists():
            user_model.objects.create_superuser("admin", "admin@example.com", "admin")
            self.stdout.write("Created the demo admin user 'admin' (password 'admin').")
        post, created = Post.objects.get_or_create(title="Hello, signals")
        if created:
            self.stdout.write(f"Created the post {post.title!r}; its slug is {post.slug!r}.")
