from __future__ import annotations

import datetime
import decimal
import enum
import json
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db import models
from django.http import QueryDict
from django.test import TestCase
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from signalkit.offload.codec import EncodeError, Missing, decode, encode, snapshot
from tests.auditapp.models import Account, Deal, Hand
from tests.offloadapp.models import Article

PARIS = ZoneInfo("Europe/Paris")


class Level(enum.IntEnum):
    LOW = 1


class Holder:
    class Status(models.TextChoices):  # nested, as in a model
        DRAFT = "d", "Draft"


def shape(value: Any) -> Any:
    """The types of ``value`` and of the values it holds."""
    if isinstance(value, list | tuple):
        return [shape(item) for item in value]
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    return type(value)


def round_trip(value: Any) -> Any:
    return decode(json.loads(json.dumps(encode(value))), using="default")


class EncodeTests:
    @pytest.mark.parametrize(
        "value",
        [
            None,
            True,
            0,
            -3,
            1.5,
            "text",
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            decimal.Decimal("1.10"),
            decimal.Decimal("-0.000001"),
            datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
            datetime.datetime(
                2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
            ),
            datetime.datetime(2026, 1, 2, 3, 4, 5),
            datetime.datetime(2026, 1, 15, 12, 0, tzinfo=PARIS),
            datetime.datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS),  # the second 2:30
            datetime.time(8, 30, tzinfo=PARIS),
            datetime.date(2026, 1, 2),
            datetime.time(23, 59, 59, 999999),
            datetime.timedelta(days=-1, seconds=5, microseconds=7),
            b"\x00\xffbytes",
            (1, ("a", None)),
            {"a", "b"},
            frozenset({"update", "fields"}),
            [1, [2, {"k": decimal.Decimal("3")}]],
            {"$uuid": "a user dict that looks like a tag"},
            User,
            Article,
            EncodeError,
            Level.LOW,
            Holder.Status.DRAFT,
            Holder.Status,  # a class nested in another one
            [{"k": Holder.Status.DRAFT}],
        ],
    )
    def test_value_round_trips_exactly(self, value: Any) -> None:
        result = round_trip(value)
        assert result == value
        assert type(result) is type(value)
        if isinstance(value, datetime.datetime | datetime.time):
            assert result.tzinfo == value.tzinfo
            assert result.fold == value.fold
        assert shape(result) == shape(value)  # inside too ("d" == Status.DRAFT)

    def test_str_and_int_subclasses_are_what_a_worker_gets_even_unserialized(self) -> None:
        # The immediate backend passes the payload without JSON: it must hold
        # what a worker decodes, not the subclass.
        for value, kind in ((mark_safe("<b>"), str), (True, bool), (Level.LOW, Level)):
            assert type(decode(encode(value), using="default")) is kind
        assert type(next(iter(encode({SafeString("k"): 1})["$dict"]))) is str

    def test_an_enum_tag_calls_nothing_but_an_enum(self) -> None:
        # The payload names the class it calls with a value from the payload.
        with pytest.raises(TypeError, match=r"os\.getenv is not an enum"):
            decode({"$enum": ["os", "getenv", "HOME"]}, using="default")

    def test_a_datetime_keeps_its_zone_across_a_dst_change(self) -> None:
        winter = datetime.datetime(2026, 1, 15, 12, 0, tzinfo=PARIS)
        summer = round_trip(winter) + datetime.timedelta(days=180)
        assert summer.utcoffset() == datetime.timedelta(hours=2)

    def test_memoryview_arrives_as_bytes(self) -> None:
        # (PostgreSQL's BinaryField values.)
        assert round_trip(memoryview(b"\x00\x01")) == b"\x00\x01"

    def test_sets_are_sorted_so_equal_sets_encode_equally(self) -> None:
        assert encode(frozenset({"b", "a", "c"})) == {"$frozenset": ["a", "b", "c"]}
        assert json.dumps(encode({3, 1, 2})) == json.dumps(encode({2, 3, 1}))

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (object(), "object values cannot be sent"),
            (float("nan"), "not a finite number"),
            ({1: "a"}, "keys that are not strings"),
            (Article(title="unsaved", id=None), "unsaved model instance"),
            # A primary key with a default is set before the first save.
            (Article(title="unsaved"), "unsaved model instance"),
            (QueryDict("tag=a&tag=b"), "several values per key"),
            ([1, lambda: 1], "function values cannot be sent"),
            # Named for what they are, with what to send instead (the query never runs).
            (gettext_lazy("Welcome"), r"^a lazy string \(gettext_lazy\(\)\): send str\(\)"),
            (
                Article.objects.all(),
                r"^a QuerySet of offloadapp\.Article: send a list of its primary",
            ),
        ],
    )
    def test_value_that_cannot_travel_raises(self, value: Any, message: str) -> None:
        with pytest.raises(EncodeError, match=message):
            encode(value)

    def test_local_class_cannot_travel(self) -> None:
        class Local:
            pass

        with pytest.raises(EncodeError, match="inside a function"):
            encode(Local)


class DecodeTests(TestCase):
    databases = {"default", "other"}

    def test_instance_travels_as_label_and_pk_and_is_refetched(self) -> None:
        article = Article.objects.create(title="Old")
        data = encode(article)
        assert data == {"$model": ["offloadapp.Article", {"$uuid": str(article.pk)}, "default"]}
        Article.objects.filter(pk=article.pk).update(title="New")
        fetched = decode(data, using="default")
        assert fetched is not article
        assert fetched.title == "New"

    def test_instance_is_refetched_from_its_own_database(self) -> None:
        article = Article.objects.using("other").create(title="Elsewhere")
        fetched = decode(json.loads(json.dumps(encode(article))), using=None)
        assert (fetched.pk, fetched._state.db) == (article.pk, "other")

    def test_payload_without_a_database_uses_the_given_one(self) -> None:
        # (Queued by an earlier version.)
        article = Article.objects.using("other").create(title="Elsewhere")
        data = {"$model": ["offloadapp.Article", {"$uuid": str(article.pk)}]}
        assert decode(data, using="other").pk == article.pk
        with pytest.raises(Missing):
            decode(data, using="default")

    def test_deleted_row_raises_missing_or_becomes_none(self) -> None:
        article = Article.objects.create(title="Gone")
        data = encode([article])
        article.delete()
        with pytest.raises(Missing, match=r"offloadapp\.Article with pk UUID"):
            decode(data, using="default")
        assert decode(data, using="default", none_if_missing=True) == [None]

    def test_snapshot_rebuilds_a_deleted_instance(self) -> None:
        when = datetime.datetime(2026, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
        article = Article.objects.create(
            title="Kept", price=decimal.Decimal("4.20"), published_at=when, at=datetime.time(1, 2)
        )
        data = json.loads(json.dumps(snapshot(article)))
        article_pk = article.pk
        article.delete()
        rebuilt = decode(data, using="default")
        assert isinstance(rebuilt, Article)
        assert (rebuilt.pk, rebuilt.title, rebuilt.price, rebuilt.published_at, rebuilt.at) == (
            article_pk,
            "Kept",
            decimal.Decimal("4.20"),
            when,
            datetime.time(1, 2),
        )
        assert rebuilt._state.adding is False
        assert rebuilt._state.db == "default"

    def test_snapshot_leaves_deferred_fields_deferred(self) -> None:
        article = Article.objects.create(title="Partly loaded", price=decimal.Decimal("1.00"))
        loaded = Article.objects.only("id", "price").get(pk=article.pk)
        with self.assertNumQueries(0):  # never read from a row that may be gone
            data = json.loads(json.dumps(snapshot(loaded)))
        article.delete()
        rebuilt = decode(data, using="default")
        assert rebuilt.price == decimal.Decimal("1.00")
        assert "title" in rebuilt.get_deferred_fields()
        assert not rebuilt._state.adding

    def test_snapshot_of_a_custom_field_value_uses_the_fields_text(self) -> None:
        # (A range, a geometry, a phone number: JSON cannot carry the value, but
        # the field can, as Django's serializers do; deleting must not fail.)
        deal = Deal.objects.create(hand=Hand("AKQJ"))
        rebuilt = decode(json.loads(json.dumps(snapshot(deal))), using="default")
        assert rebuilt.hand == Hand("AKQJ")

    def test_snapshot_of_a_binary_field(self) -> None:
        account = Account.objects.create(name="binary", blob=b"\x00\x01")
        loaded = Account.objects.get(pk=account.pk)  # (a memoryview on PostgreSQL)
        rebuilt = decode(json.loads(json.dumps(snapshot(loaded))), using="default")
        assert bytes(rebuilt.blob) == b"\x00\x01"


def test_a_class_tag_reads_classes_only() -> None:
    # The payload names what is read: nothing but a class, at every step.
    for path in (["django.conf", "settings.SECRET_KEY"], ["os", "system"], "os.system"):
        with pytest.raises(TypeError, match="is not a class"):
            decode({"$class": path}, using="default")
    with pytest.raises(TypeError, match="is not an enum"):
        decode({"$enum": ["django.conf", "settings.SECRET_KEY", "x"]}, using="default")


def test_a_class_tag_runs_no_module_hook() -> None:
    # The payload names what is read: looked up statically, no code of the
    # module (a lazy attribute's loader) runs for it.
    from tests.offloadapp import hooked

    with pytest.raises(AttributeError, match="Thing"):
        decode({"$class": ["tests.offloadapp.hooked", "Thing"]}, using="default")
    assert hooked.calls == []


def test_a_class_tag_of_an_earlier_version_finds_a_nested_class() -> None:
    # Earlier versions queued "module.Qualname" as one string: the module is
    # its longest prefix that imports, whatever the depth of the class.
    assert decode({"$class": "decimal.Decimal"}, using="default") is decimal.Decimal
    nested = "tests.offloadapp.models.Article.DoesNotExist"
    assert decode({"$class": nested}, using="default") is Article.DoesNotExist
    with pytest.raises(AttributeError, match="Nope"):
        decode({"$class": "tests.offloadapp.models.Article.Nope"}, using="default")
    # (Neither imported nor a module of an installed app: not imported for a task.)
    with pytest.raises(ImportError, match="a task does not import 'nosuchpackage'"):
        decode({"$class": "nosuchpackage.Thing"}, using="default")


def test_a_class_gone_since_the_task_was_queued_is_named_in_full() -> None:
    # (Renamed or removed by a deploy: the bare errors said 'Gone' alone, or
    # the module only.)
    gone = {"$class": ["tests.offloadapp.models", "Article.Gone"]}
    with pytest.raises(AttributeError) as caught:
        decode(gone, using="default")
    assert str(caught.value) == (
        "Cannot find the class 'tests.offloadapp.models.Article.Gone': 'Gone' is not in 'Article'."
    )
    with pytest.raises(ImportError) as missing:
        decode({"$enum": ["tests.offloadapp.gone", "Status", "a"]}, using="default")
    assert str(missing.value) == (
        "Cannot find the class 'tests.offloadapp.gone.Status': "
        "No module named 'tests.offloadapp.gone'."
    )


def test_a_member_of_a_local_str_or_int_enum_travels_as_its_value() -> None:
    # (A worker cannot import the enum: the plain value, as before enums had a tag.)
    class Local(enum.IntEnum):
        ONE = 1

    assert type(encode(Local.ONE)) is int
    assert encode(Local.ONE) == 1
    # Made under another name than the variable's: not found by that name either.
    Renamed = enum.IntEnum("Other", "ONE")  # type: ignore[misc]
    assert type(encode(Renamed.ONE)) is int
