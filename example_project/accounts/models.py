from __future__ import annotations

from django.conf import settings
from django.db import models


class Profile(models.Model):
    """Created by signalkit for every new user (SIGNALKIT["PROFILE"])."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(max_length=100)
    bio = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return self.display_name
