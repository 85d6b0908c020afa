"""Datetimes and times of an offload payload with their time zone.

An offset alone would come back as a fixed offset, wrong across a DST change:
a value in a :class:`~zoneinfo.ZoneInfo` zone travels with the zone's key.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["parse_datetime", "parse_time", "zoned"]


def zoned(value: datetime.datetime | datetime.time) -> str | list[str]:
    """``value`` in ISO format, with its zone's key when it has one."""
    if isinstance(value.tzinfo, ZoneInfo) and isinstance(value.tzinfo.key, str):
        return [value.isoformat(), value.tzinfo.key]
    return value.isoformat()


def _zone(key: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # a zone this worker does not know: the fixed offset it had


def parse_datetime(data: str | list[str]) -> datetime.datetime:
    """The datetime that :func:`zoned` wrote."""
    if isinstance(data, str):
        return datetime.datetime.fromisoformat(data)
    text, key = data
    parsed = datetime.datetime.fromisoformat(text)
    zone = _zone(key)
    if zone is not None:
        # The same wall time in the zone, with the fold whose offset the sender's
        # had (in a DST gap or an ambiguous hour, the fold tells them apart).
        for fold in (0, 1):
            candidate = parsed.replace(tzinfo=zone, fold=fold)
            if candidate.utcoffset() == parsed.utcoffset():
                return candidate
    return parsed


def parse_time(data: str | list[str]) -> datetime.time:
    """The time that :func:`zoned` wrote."""
    if isinstance(data, str):
        return datetime.time.fromisoformat(data)
    text, key = data
    parsed = datetime.time.fromisoformat(text)
    zone = _zone(key)
    return parsed if zone is None else parsed.replace(tzinfo=zone)
