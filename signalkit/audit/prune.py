"""Deleting old audit events: the only way events leave the table."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from signalkit.models import AuditEvent, AuditEventQuerySet


def parse_before(value: str) -> datetime.datetime:
    """A date (midnight, current time zone) or an ISO datetime, as the database
    compares it: aware and in range when ``USE_TZ`` is on, naive (current time
    zone) when it is off. ``ValueError`` for anything else."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        moment = datetime.datetime.combine(day, datetime.time())
    try:
        if not settings.USE_TZ:
            return timezone.make_naive(moment) if timezone.is_aware(moment) else moment
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        utc = moment.astimezone(datetime.UTC)  # what the database is given must exist
    except OverflowError:
        raise ValueError(value) from None
    offset = moment.utcoffset()
    if offset is not None and abs(offset) >= datetime.timedelta(hours=16):
        return utc  # PostgreSQL refuses offsets past 15:59 that Python accepts
    return moment


def prune(
    before: datetime.datetime, *, using: str, batch_size: int = 1000, dry_run: bool = False
) -> int:
    """Delete events older than ``before`` in batches of ``batch_size``; return how
    many. Events recorded once the pruning began stay, whatever ``before`` says:
    a date in the future would otherwise chase the writes for as long as they come."""
    old = AuditEvent.objects.using(using).filter(occurred_at__lt=min(before, timezone.now()))
    if dry_run:
        return old.count()
    # No table holds more rows; a larger size would overflow the 64-bit OFFSET
    # that finds a batch's edge below.
    batch_size = min(batch_size, 2**62)
    # A second pass from the oldest event deletes those that transactions
    # committed behind the first one (their times were taken before the commit).
    return _sweep(old, batch_size) + _sweep(old, batch_size)


def _sweep(old: AuditEventQuerySet, batch_size: int) -> int:
    """Delete the events of ``old``, oldest first, ``batch_size`` at a time."""
    deleted = 0
    done: datetime.datetime | None = None
    while True:
        # Each batch starts where the previous one ended: the rows it deleted
        # stay in the time index until they are vacuumed (PostgreSQL, InnoDB),
        # and a scan from the oldest would walk them all again, batch after
        # batch (hours for a few million events).
        rest = old if done is None else old.filter(occurred_at__gt=done)
        # The batch is bounded by the time of its last event (oldest first, found
        # on the time index), not by a list of keys: any batch size fits in one
        # statement. Events sharing that time all go in this batch.
        last = rest.order_by("occurred_at").values_list("occurred_at", flat=True)
        edge = list(last[batch_size - 1 : batch_size])
        batch = rest.filter(occurred_at__lte=edge[0]) if edge else rest
        deleted += batch._prune()
        if not edge:
            return deleted
        done = edge[0]
