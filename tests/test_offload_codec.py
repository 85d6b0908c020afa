from __future__ import annotations

import datetime
import decimal
import json
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import TestCase

from signalkit.offload.codec import EncodeError, Missing, decode, encode, snapshot
from tests.offloadapp.models import Article


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
            datetime.date(2026, 1, 2),
            datetime.time(23, 59, 59, 999999),
            datetime.timedelta(days=-1, seconds=5, microseconds=7),
            (1, ("a", None)),
            {"a", "b"},
            frozenset({"update", "fields"}),
            [1, [2, {"k": decimal.Decimal("3")}]],
            {"$uuid": "a user dict that looks like a tag"},
            User,
            Article,
            EncodeError,
        ],
    )
    def test_value_round_trips_exactly(self, value: Any) -> None:
        result = round_trip(value)
        assert result == value
        assert type(result) is type(value)
        if isinstance(value, datetime.datetime | datetime.time):
            assert result.tzinfo == value.tzinfo

    def test_sets_are_sorted_so_equal_sets_encode_equally(self) -> None:
        assert encode(frozenset({"b", "a", "c"})) == {"$frozenset": ["a", "b", "c"]}
        assert json.dumps(encode({3, 1, 2})) == json.dumps(encode({2, 3, 1}))

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (object(), "object values cannot be sent"),
            (b"bytes", "bytes values cannot be sent"),
            (float("nan"), "not a finite number"),
            ({1: "a"}, "keys that are not strings"),
            (Article(title="unsaved", id=None), "unsaved model instance"),
            ([1, lambda: 1], "function values cannot be sent"),
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
    def test_instance_travels_as_label_and_pk_and_is_refetched(self) -> None:
        article = Article.objects.create(title="Old")
        data = encode(article)
        assert data == {"$model": ["offloadapp.Article", {"$uuid": str(article.pk)}]}
        Article.objects.filter(pk=article.pk).update(title="New")
        fetched = decode(data, using="default")
        assert fetched is not article
        assert fetched.title == "New"

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
