"""The offload codec at its edges: zones, payloads of earlier versions, and the
snapshot of a deleted instance that holds an expression."""

from __future__ import annotations

import datetime
import json
import zoneinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F
from django.test import TestCase, TransactionTestCase, override_settings

from signalkit.offload.codec import decode, encode
from signalkit.offload.compat import TASKS_MODULE
from tests.auditapp.models import Account
from tests.offloadapp.models import Article

IMMEDIATE = {"default": {"BACKEND": f"{TASKS_MODULE}.backends.immediate.ImmediateBackend"}}

NEW_YORK = ZoneInfo("America/New_York")


def round_trip(value: Any) -> Any:
    return decode(json.loads(json.dumps(encode(value))), using="default")


class ZoneTests:
    def test_an_aware_datetime_near_the_end_of_time_round_trips(self) -> None:
        value = datetime.datetime(9999, 12, 31, 23, 0, tzinfo=NEW_YORK)
        assert round_trip(value) == value

    def test_an_aware_datetime_near_the_start_of_time_round_trips(self) -> None:
        value = datetime.datetime(1, 1, 1, 1, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
        assert round_trip(value) == value

    def test_a_zone_without_a_key_does_not_break_the_worker(self) -> None:
        # (A ZoneInfo.from_file() zone has no key: it travels as its offset.)
        with open(f"{zoneinfo.TZPATH[0]}/Europe/Paris", "rb") as file:
            zone = ZoneInfo.from_file(file)
        value = datetime.datetime(2026, 1, 15, 12, 0, tzinfo=zone)
        result = round_trip(value)
        assert result == value
        assert result.utcoffset() == value.utcoffset()

    def test_a_zone_key_the_worker_does_not_know_does_not_fail_the_task(self) -> None:
        with open(f"{zoneinfo.TZPATH[0]}/Europe/Paris", "rb") as file:
            zone = ZoneInfo.from_file(file, key="Company/Paris-Office")
        value = datetime.datetime(2026, 1, 15, 12, 0, tzinfo=zone)
        result = round_trip(value)  # (the fixed offset it had)
        assert result == value

    def test_a_wall_time_in_a_dst_gap_keeps_its_wall_time(self) -> None:
        # 02:30 does not exist on 2024-03-10 in New York.
        value = datetime.datetime(2024, 3, 10, 2, 30, tzinfo=NEW_YORK)
        result = round_trip(value)
        assert (result.hour, result.minute) == (2, 30)


class OldPayloadTests(TestCase):
    def test_a_two_element_model_payload_still_decodes(self) -> None:
        account = Account.objects.create(name="a")
        assert decode({"$model": ["auditapp.Account", account.pk]}, using=None) == account


@override_settings(TASKS=IMMEDIATE)
class DeletedSnapshotTests(TransactionTestCase):
    def test_a_field_saved_with_an_expression_does_not_break_the_delete(self) -> None:
        # After save(), Django 5.2 leaves the F() expression on the instance; the
        # offloaded post_delete receiver (tests.offloadapp.signals.record_delete)
        # gets the field deferred, as a field never loaded.
        article = Article.objects.create(title="a", price=1)
        article.price = F("price") + 1
        article.save()
        article.delete()
        assert not Article.objects.exists()
