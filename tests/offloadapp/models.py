from __future__ import annotations

import uuid

from django.db import models


class Article(models.Model):
    """A sender whose fields JSON cannot carry exactly."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    title = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    published_at = models.DateTimeField(null=True)
    day = models.DateField(null=True)
    at = models.TimeField(null=True)

    def __str__(self) -> str:
        return self.title


class Effect(models.Model):
    """A row written by an offloaded receiver, for the test to read."""

    receiver = models.CharField(max_length=100)
    object_pk = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"{self.receiver} {self.object_pk}"
