from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
from django.db import connection, models
from django.test import SimpleTestCase, TestCase, override_settings
from django.test.utils import isolate_apps

from tests.audit_utils import audited, events
from tests.auditapp.models import Account, Deal, Hand


@audited(MODELS={"auditapp.Account": {}, "auditapp.Deal": {}})
class ChangedInPlaceTests(TestCase):
    """Values the program changes in place, as it does a JSON field's: the
    snapshot keeps the old value, so the change is recorded."""

    def test_a_custom_fields_value_changed_in_place_is_seen(self) -> None:
        deal = Deal.objects.create(hand=Hand("AS"))
        deal.hand.cards = "KD"
        deal.save()
        loaded = Deal.objects.get(pk=deal.pk)
        loaded.hand.cards = "2C"
        loaded.save()
        assert [e.changes for e in events(action="update")] == [
            {"hand": ["AS", "KD"]},
            {"hand": ["KD", "2C"]},
        ]

    def test_a_custom_fields_equal_value_is_no_change(self) -> None:
        deal = Deal.objects.create(hand=Hand("AS"))
        Deal.objects.get(pk=deal.pk).save()
        deal.save()
        assert events(action="update") == []

    def test_a_bytearray_changed_in_place_is_seen(self) -> None:
        blob = bytearray(b"ab")
        account = Account.objects.create(name="a", blob=blob)
        blob[0] = ord("x")
        account.save()
        assert [e.changes for e in events(action="update")] == [{"blob": ["YWI=", "eGI="]}]


def encoders(model: type[models.Model]) -> dict[str, Any]:
    from signalkit.audit.plans import _plan
    from signalkit.conf import get_settings

    return {name: encoder for name, _, encoder in _plan(model, get_settings().audit, {}).encoders}


class StoredValuePlanTests(SimpleTestCase):
    """Values recorded and compared as the column keeps them."""

    @isolate_apps("tests.auditapp")
    def test_an_hstores_values_are_recorded_as_text(self) -> None:
        from django.contrib.postgres.fields import HStoreField

        class Tagged(models.Model):
            attrs = HStoreField(null=True)

            class Meta:
                app_label = "auditapp"

            def __str__(self) -> str:
                return "tagged"

        # PostgreSQL stores {"size": 3} as {"size": "3"}, and gives that back.
        assert encoders(Tagged)["attrs"]({"size": 3, "gone": None}) == {"size": "3", "gone": None}

    @pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite stores NaN as NULL")
    @isolate_apps("tests.auditapp")
    def test_nan_is_null_on_sqlite(self) -> None:
        from signalkit.audit.compare import changes_of
        from signalkit.audit.plans import _plan
        from signalkit.conf import get_settings

        class Reading(models.Model):
            value = models.FloatField(null=True)

            class Meta:
                app_label = "auditapp"

            def __str__(self) -> str:
                return "reading"

        nan = float("nan")
        assert encoders(Reading)["value"](nan) is None
        plan = _plan(Reading, get_settings().audit, {})
        # Loaded (None), then NaN assigned again: the column keeps NULL.
        assert changes_of(plan, {"value": nan}, {"value": None}, False, None) == (
            {},
            {"value": nan},
        )
        assert changes_of(plan, {"value": 1.5}, {"value": None}, False, None)[0] == {
            "value": [None, 1.5]
        }


@override_settings(USE_TZ=False, TIME_ZONE="America/New_York")
class WithoutTimeZoneTests(TestCase):
    """Without ``USE_TZ``, PostgreSQL stores an aware datetime's instant and gives
    it back naive, in the default time zone."""

    def test_an_aware_datetime_of_the_stored_instant_is_no_change(self) -> None:
        from signalkit.audit.compare import changes_of
        from signalkit.audit.plans import _plan
        from signalkit.conf import get_settings

        plan = _plan(Account, get_settings().audit, {})
        loaded = datetime.datetime(2024, 7, 1, 12, 0)
        for same in (
            datetime.datetime(2024, 7, 1, 12, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
            datetime.datetime(2024, 7, 1, 16, 0, tzinfo=datetime.UTC),
        ):
            assert changes_of(plan, {"seen_at": same}, {"seen_at": loaded}, False, None)[0] == {}
            assert changes_of(plan, {"seen_at": loaded}, {"seen_at": same}, False, None)[0] == {}
        later = datetime.datetime(2024, 7, 1, 17, 0, tzinfo=datetime.UTC)
        assert changes_of(plan, {"seen_at": later}, {"seen_at": loaded}, False, None)[0] == {
            "seen_at": ["2024-07-01T12:00:00", "2024-07-01T13:00:00"]
        }

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="only PostgreSQL saves aware datetimes then"
    )
    def test_saving_the_same_aware_datetime_again_records_nothing(self) -> None:
        seen = datetime.datetime(2024, 7, 1, 16, 0, tzinfo=datetime.UTC)
        with audited(MODELS={"auditapp.Account": {}}):
            account = Account.objects.create(name="a", seen_at=seen)
            loaded = Account.objects.get(pk=account.pk)
            loaded.seen_at = seen
            loaded.save()
        assert [e.action for e in events()] == ["create"]
        assert events()[0].changes["seen_at"] == [None, "2024-07-01T12:00:00"]
