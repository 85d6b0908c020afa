"""One identical model per contender (no migrations: created by the test runner)."""

from __future__ import annotations

import decimal

from django.conf import settings
from django.db import models


class Tag(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    name = models.CharField(max_length=100)
    value = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=10, decimal_places=2, default=decimal.Decimal(0))
    created = models.DateTimeField(null=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


class PlainItem(Item):
    tags = models.ManyToManyField(Tag, related_name="+")


class NoopItem(Item):
    tags = models.ManyToManyField(Tag, related_name="+")


class SignalkitItem(Item):
    tags = models.ManyToManyField(Tag, related_name="+")


class MinimalItem(Item):
    """Audited by the benchmark's minimal receivers (tests/benchmarks/minimal.py)."""

    tags = models.ManyToManyField(Tag, related_name="+")


class AuditlogItem(Item):
    tags = models.ManyToManyField(Tag, related_name="+")


if "simple_history" in settings.INSTALLED_APPS:
    from simple_history.models import HistoricalRecords

    class SimpleHistoryItem(Item):
        tags = models.ManyToManyField(Tag, related_name="+")
        history = HistoricalRecords(m2m_fields=[tags])
