"""Deleting old audit events: the only way events leave the table."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from signalkit.models import AuditEvent


def parse_before(value: str) -> datetime.datetime:
    """A date (midnight, current time zone) or an ISO datetime; ``ValueError`` otherwise."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        moment = datetime.datetime.combine(day, datetime.time())
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def prune(
    before: datetime.datetime, *, using: str, batch_size: int = 1000, dry_run: bool = False
) -> int:
    """Delete events older than ``before`` in batches of ``batch_size``; return how many."""
    old = AuditEvent.objects.using(using).filter(occurred_at__lt=before)
    if dry_run:
        return old.count()
    deleted = 0
    while True:
        pks = list(old.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not pks:
            return deleted
        deleted += AuditEvent.objects.using(using).filter(pk__in=pks)._prune()
