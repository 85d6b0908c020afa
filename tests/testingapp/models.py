from __future__ import annotations

from django.db import models


class Entry(models.Model):
    """A model nothing refers to: deleting its rows can take Django's fast path."""

    number = models.IntegerField()

    def __str__(self) -> str:
        return f"Entry {self.number}"
