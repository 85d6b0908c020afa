"""Create the demo admin user and load the demo posts; safe to run again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from blog.models import Post


class Command(BaseCommand):
    help = "Create the demo admin user (admin/admin) and load the demo data, if missing."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username="admin").exists():
            user_model.objects.create_superuser("admin", "admin@example.com", "admin")
            self.stdout.write("Created the demo admin user 'admin' (password 'admin').")
        if not Post.objects.exists():
            # Fixtures are saved raw: receivers see raw=True and skip their work.
            call_command("loaddata", "demo", verbosity=0)
            self.stdout.write("Loaded the demo posts from blog/fixtures/demo.json.")
        # Users loaded from fixtures (raw) or created before signalkit got none.
        call_command("createprofiles", stdout=self.stdout)
