from __future__ import annotations

import datetime
import decimal
import enum
import ipaddress
import json
import uuid
from typing import Any

import pytest
from django.db import connection, models, transaction
from django.test import SimpleTestCase, TestCase
from django.test.utils import isolate_apps
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

import signalkit.audit as audit
from signalkit.audit.serialize import dumps, to_json, truncate
from signalkit.models import AuditEvent
from tests.audit_utils import audited
from tests.auditapp.models import Account

# NUL is replaced (PostgreSQL cannot store it; tested separately); lone surrogates
# cannot be encoded for PostgreSQL at all, not even in the audited row.
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=20)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=10,
)

# (field, strategy of values) pairs: the stored JSON must come back equal via to_python.
FIELDS: list[tuple[models.Field[Any, Any], st.SearchStrategy[Any]]] = [
    (
        models.DecimalField(max_digits=12, decimal_places=4),
        st.decimals(min_value=-(10**7), max_value=10**7, places=4, allow_nan=False),
    ),
    (
        models.DateTimeField(),
        st.datetimes(timezones=st.just(datetime.UTC)),
    ),
    (models.DateField(), st.dates()),
    (models.TimeField(), st.times()),
    (models.DurationField(), st.timedeltas()),
    (models.UUIDField(), st.uuids()),
    (models.BinaryField(), st.binary(max_size=64)),
    (models.FloatField(), st.floats(allow_nan=False, allow_infinity=False)),
    (models.IntegerField(), st.integers(-(2**31), 2**31 - 1)),
    (models.TextField(), TEXT),
    (models.BooleanField(), st.booleans()),
    (models.JSONField(), JSON_VALUES),
]


def normalise(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


class ToJsonTests(TestCase):
    def test_native_types(self) -> None:
        assert to_json(decimal.Decimal("1.10")) == "1.10"
        assert to_json(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
        assert to_json(b"\xff") == "/w=="
        assert to_json(float("nan")) == "nan"
        assert to_json({1: (2, {3})}) == {"1": [2, [3]]}
        assert to_json({"a\x00": "b\x00"}) == {"a\ufffd": "b\ufffd"}
        assert to_json(ipaddress.ip_address("::1")) == "::1"

    def test_truncate_never_fails(self) -> None:
        class Broken:
            def __str__(self) -> str:
                raise RuntimeError

        assert truncate(Broken(), 10) == "<Broken>"
        assert truncate("abcdef", 4) == "abc…"
        assert truncate("a\x00", 4) == "a\ufffd"
        # No UTF-8 holds a lone surrogate: PostgreSQL refused the event.
        assert truncate("é\udcff", 4) == "é\ufffd"
        assert to_json({"\ud800": ["x\udfff", "\U0001f600"]}) == {
            "\ufffd": ["x\ufffd", "\U0001f600"]
        }

    def test_a_custom_event_with_a_lone_surrogate_keeps_the_change(self) -> None:
        with transaction.atomic():
            account = Account.objects.create(name="a")
            audit.record("imported", account, filename="bad\udcffname")
        assert Account.objects.filter(pk=account.pk).exists()
        [event] = AuditEvent.objects.filter(action="imported")
        assert event.extra == {"filename": "bad\ufffdname"}


class RoundTripTests(HypothesisTestCase):
    @settings(max_examples=40, deadline=None)
    @given(data=st.data())
    def test_stored_json_round_trips_over_field_types(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(FIELDS) - 1))
        field, strategy = FIELDS[index]
        value = data.draw(strategy)
        event = AuditEvent.objects.create(action="t", changes={"f": [None, to_json(value)]})
        stored = AuditEvent.objects.get(pk=event.pk).changes["f"][1]
        assert normalise(field.to_python(stored)) == value


ACCOUNT_VALUES = st.fixed_dictionaries(
    {
        "name": TEXT,
        "balance": st.decimals(
            min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
        ),
        "born": st.none() | st.dates(),
        "seen_at": st.none() | st.datetimes(timezones=st.just(datetime.UTC)),
        # MariaDB's UUID type takes only the RFC 4122 variant.
        "uid": st.uuids(version=4) if connection.vendor == "mysql" else st.uuids(),
        "blob": st.none() | st.binary(max_size=32),
        "data": st.dictionaries(TEXT, JSON_VALUES, max_size=3),
    }
)


@audited(MODELS={"auditapp.Account": {}})
class RecordedValuesTests(HypothesisTestCase):
    @settings(max_examples=30, deadline=None)
    @given(values=ACCOUNT_VALUES)
    def test_recorded_values_round_trip_to_the_saved_values(self, values: dict[str, Any]) -> None:
        account = Account.objects.create(**values)
        saved = Account.objects.get(pk=account.pk)
        changes = AuditEvent.objects.get(action="create", object_pk=str(account.pk)).changes
        for name in values:
            field = Account._meta.get_field(name)
            assert isinstance(field, models.Field)
            recorded = changes[name][1]
            restored = None if recorded is None else field.to_python(recorded)
            assert normalise(restored) == normalise(getattr(saved, name)), name


class DumpsTests(SimpleTestCase):
    @given(value=st.dictionaries(TEXT, JSON_VALUES | st.floats(), max_size=6))
    def test_gives_what_json_dumps_gives(self, value: dict[str, Any]) -> None:
        assert dumps(value) == json.dumps(value)

    def test_other_values_go_through_json_dumps(self) -> None:
        assert dumps([1, "a"]) == json.dumps([1, "a"])
        assert dumps("x") == '"x"'

    def test_a_value_that_is_not_json_fails_as_json_dumps_does(self) -> None:
        with pytest.raises(TypeError, match="not JSON serializable"):
            dumps({"a": object()})


@audited(MODELS={"auditapp.Account": {}, "auditapp.Visit": {}})
class StoredFormTests(TestCase):
    """Values recorded as the column keeps them, not as they were assigned."""

    def test_a_blank_address_from_a_form_is_null_and_no_change(self) -> None:
        from django import forms

        from tests.auditapp.models import Visit

        class VisitForm(forms.ModelForm):  # type: ignore[type-arg]
            class Meta:
                model = Visit
                fields = ["address", "page"]

        visit = VisitForm({"address": "", "page": "a"}).save()
        form = VisitForm({"address": "", "page": "a"}, instance=Visit.objects.get(pk=visit.pk))
        form.save()  # nothing changed: the column holds NULL before and after
        assert [(e.action, e.changes) for e in AuditEvent.objects.order_by("pk")] == [
            ("create", {"address": [None, None], "page": [None, "a"]})
        ]
        visit.address = "2001:0db8::0001"
        visit.save()
        assert AuditEvent.objects.order_by("pk").last().changes == {  # type: ignore[union-attr]
            "address": [None, "2001:db8::1"]
        }

    def test_a_naive_datetime_is_recorded_in_the_default_time_zone(self) -> None:
        with self.settings(TIME_ZONE="Europe/Paris"), pytest.warns(RuntimeWarning):
            account = Account.objects.create(seen_at=datetime.datetime(2024, 7, 1, 12, 0))
        recorded = AuditEvent.objects.get(action="create").changes["seen_at"][1]
        assert recorded == "2024-07-01T12:00:00+02:00"
        stored = Account.objects.get(pk=account.pk).seen_at
        assert Account._meta.get_field("seen_at").to_python(recorded) == stored


class ArrayFieldPlanTests(SimpleTestCase):
    """PostgreSQL's arrays: items recorded and compared as their base field keeps them."""

    @isolate_apps("tests.auditapp")
    def test_array_items_are_recorded_as_stored(self) -> None:
        from django.contrib.postgres.fields import ArrayField

        from signalkit.audit.plans import _plan
        from signalkit.conf import get_settings

        class Series(models.Model):
            prices = ArrayField(models.DecimalField(max_digits=5, decimal_places=2))
            days = ArrayField(ArrayField(models.DateField()), null=True)

            class Meta:
                app_label = "auditapp"

            def __str__(self) -> str:
                return "series"

        plan = _plan(Series, get_settings().audit, {})
        encode = {name: encoder for name, _, encoder in plan.encoders}
        assert encode["prices"]([decimal.Decimal("1.234"), None]) == ["1.23", None]
        moment = datetime.datetime(2024, 1, 1, 10, 0, tzinfo=datetime.UTC)
        assert encode["days"]([[moment]]) == [["2024-01-01"]]
        same = plan.converters["prices"]
        assert same([decimal.Decimal("1.234")]) == same(["1.23"])


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


class LevelField(models.IntegerField):  # type: ignore[type-arg]
    """A custom integer field whose values are ``Level`` members, not integers."""

    def from_db_value(self, value: int | None, expression: object, connection: object) -> Any:
        return None if value is None else Level(value)

    def to_python(self, value: Any) -> Any:
        return value if value is None or isinstance(value, Level) else Level(int(value))

    def get_prep_value(self, value: Any) -> Any:
        return value.value if isinstance(value, Level) else value

    def value_to_string(self, obj: models.Model) -> str:
        return str(self.get_prep_value(self.value_from_object(obj)))


class TypedColumnPlanTests(SimpleTestCase):
    """Values assigned as another type are recorded as a load of the row gives them."""

    @isolate_apps("tests.auditapp")
    def test_a_custom_integer_fields_values_are_recorded_as_its_serializers_text(self) -> None:
        from signalkit.audit.plans import _plan
        from signalkit.conf import get_settings

        class Ranked(models.Model):
            level = LevelField(null=True)

            class Meta:
                app_label = "auditapp"

            def __str__(self) -> str:
                return "ranked"

        encode = {
            name: encoder for name, _, encoder in _plan(Ranked, get_settings().audit, {}).encoders
        }
        field = Ranked._meta.get_field("level")
        # Loaded (a member), assigned as the member, its number or its text: as
        # the field's serializers write it, which its to_python() reads back.
        for value in (Level.HIGH, 2, "2"):
            assert encode["level"](value) == "2"
            assert field.to_python(encode["level"](value)) == Level.HIGH

    @isolate_apps("tests.auditapp")
    def test_a_key_to_a_uuid_assigned_as_text_is_recorded_as_the_uuid(self) -> None:
        from signalkit.audit.plans import _plan
        from signalkit.conf import get_settings

        class Target(models.Model):
            id = models.UUIDField(primary_key=True, default=uuid.uuid4)

            class Meta:
                app_label = "auditapp"

            def __str__(self) -> str:
                return "target"

        class Pointer(models.Model):
            target = models.ForeignKey(Target, models.CASCADE, null=True)

            class Meta:
                app_label = "auditapp"

            def __str__(self) -> str:
                return "pointer"

        encode = {
            name: encoder for name, _, encoder in _plan(Pointer, get_settings().audit, {}).encoders
        }
        key = uuid.uuid4()
        for value in (key, key.hex, str(key).upper()):
            assert encode["target"](value) == str(key)
        assert encode["target"]("not a key") == "not a key"  # the save will fail


def sample_plan() -> Any:
    """The plan of a model with a field of each kind the comparison tells apart."""
    from signalkit.audit.plans import _plan
    from signalkit.conf import get_settings

    with isolate_apps("tests.auditapp"):

        class Holder(models.Model):
            class Meta:
                app_label = "auditapp"

            def __str__(self) -> str:
                return "holder"

        class Sample(models.Model):
            count = models.IntegerField()
            flag = models.BooleanField()
            title = models.CharField(max_length=10)
            body = models.TextField()
            owner = models.ForeignKey(Holder, models.CASCADE)
            ratio = models.FloatField()
            price = models.DecimalField(max_digits=5, decimal_places=2)
            moment = models.DateTimeField()
            payload = models.JSONField()
            level = LevelField()

            class Meta:
                app_label = "auditapp"

            def __str__(self) -> str:
                return "sample"

        return _plan(Sample, get_settings().audit, {})


class ExactComparisonTests(SimpleTestCase):
    """Values of the type a built-in field's column keeps as it is are compared
    without converting them: the shortcut must agree with the full comparison."""

    def test_which_fields_compare_exactly(self) -> None:
        # Not a float (NaN differs from itself), a Decimal (rounded to its
        # places), a datetime (naive or aware), JSON (1 and True) or a custom field.
        assert dict(sample_plan().exact) == {
            "count": int,
            "flag": bool,
            "title": str,
            "body": str,
            "owner_id": int,
        }

    @settings(max_examples=60, deadline=None)
    @given(
        pair=st.tuples(st.integers(), st.integers())
        | st.tuples(st.booleans(), st.booleans())
        | st.tuples(TEXT, TEXT)
        | st.sampled_from([(1, 1), (True, True), ("a", "a")])
    )
    def test_the_shortcut_agrees_with_the_full_comparison(self, pair: tuple[Any, Any]) -> None:
        from signalkit.audit.compare import changes_of, same_value

        plan = sample_plan()
        old, new = pair
        attname = {int: "count", bool: "flag", str: "title"}[type(old)]
        assert plan.exact[attname] is type(old)
        changes, saved = changes_of(plan, {attname: new}, {attname: old}, False, None)
        assert saved == {attname: new}
        assert (attname in changes) is not same_value(old, new, plan, attname)
        assert (attname in changes) is (old != new)
        if old != new:
            assert changes[attname] == [old, new]

    def test_values_of_another_type_are_converted_to_compare(self) -> None:
        from signalkit.audit.compare import changes_of

        plan = sample_plan()
        # "3" for 3, 1 for True: the column is given the same value.
        for attname, old, new in (("count", 3, "3"), ("flag", True, 1), ("owner_id", 3, "3")):
            changes, _ = changes_of(plan, {attname: new}, {attname: old}, False, None)
            assert changes == {}, attname
