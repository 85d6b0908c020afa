"""Values a JSON payload would change on the way: floats that a number store
rewrites, and subclasses of the containers, which would arrive as plain ones."""

from __future__ import annotations

import collections
import enum
import json
import re
from typing import Any, NamedTuple

import pytest
from django.test import TestCase, override_settings

from signalkit.offload.codec import EncodeError, decode, encode, snapshot
from signalkit.offload.compat import TASKS_MODULE
from signalkit.offload.enqueue import OffloadError
from tests.auditapp.models import Account
from tests.offloadapp.models import Article, Effect
from tests.offloadapp.signals import article_event

IMMEDIATE = {"default": {"BACKEND": f"{TASKS_MODULE}.backends.immediate.ImmediateBackend"}}

# Floats of every form: exponents both ways, negative zero, the extremes, and
# the ordinary ones that stay plain numbers.
FLOATS = [1e16, 1.5e16, -1e22, 1e308, -0.0, 5e-324, 1e-07, 2.5, 0.1, 123.0, -0.5, 0.0]


class Point(NamedTuple):
    x: int
    y: int


class Tags(list[str]):
    pass


class Flags(set[str]):
    pass


class Frozen(frozenset[str]):
    pass


def same_float(result: Any, value: float) -> bool:
    # (repr tells -0.0 from 0.0, which == does not.)
    return type(result) is float and repr(result) == repr(value)


class FloatEncodeTests:
    def test_exponent_forms_and_negative_zero_travel_as_their_text(self) -> None:
        assert encode(1e16) == {"$float": "1e+16"}
        assert encode(-0.0) == {"$float": "-0.0"}
        assert encode(1e-07) == {"$float": "1e-07"}
        # Ordinary floats stay plain numbers, so payloads stay readable.
        assert [encode(value) for value in (2.5, 123.0, -0.5)] == [2.5, 123.0, -0.5]
        assert type(encode(123.0)) is float

    def test_a_float_subclass_in_exponent_form_arrives_as_the_float(self) -> None:
        class Measure(float):
            pass

        assert encode(Measure(1e16)) == {"$float": "1e+16"}
        assert same_float(decode(encode(Measure(-0.0)), using="default"), -0.0)

    def test_a_member_of_a_local_float_enum_travels_as_its_exact_value(self) -> None:
        class Limit(float, enum.Enum):
            HUGE = 1e16

        assert encode(Limit.HUGE) == {"$float": "1e+16"}


class JsonbFloatTests(TestCase):
    # PostgreSQL's jsonb, as the database task backend stores a payload there.
    databases = {"offload"}

    def test_floats_come_back_from_jsonb_as_the_same_floats(self) -> None:
        payload = encode({"floats": FLOATS, "nested": (1e16, {"zero": -0.0})})
        effect = Effect.objects.using("offload").create(receiver="jsonb", data=payload)
        effect.refresh_from_db()
        result = decode(effect.data, using="offload")
        assert [repr(value) for value in result["floats"]] == [repr(value) for value in FLOATS]
        assert all(
            same_float(got, sent) for got, sent in zip(result["floats"], FLOATS, strict=True)
        )
        big, inner = result["nested"]
        assert same_float(big, 1e16)
        assert same_float(inner["zero"], -0.0)


class ContainerSubclassTests:
    @pytest.mark.parametrize(
        ("value", "kind", "convert"),
        [
            (
                Point(1, 2),
                "tests.test_offload_codec_exact.Point",
                "its _asdict() (a dict) or tuple(...)",
            ),
            (collections.OrderedDict(a=1), "collections.OrderedDict", "dict(...)"),
            (collections.defaultdict(list, a=[1]), "collections.defaultdict", "dict(...)"),
            (collections.Counter("aab"), "collections.Counter", "dict(...)"),
            (Tags(["a"]), "tests.test_offload_codec_exact.Tags", "list(...)"),
            (Flags({"a"}), "tests.test_offload_codec_exact.Flags", "set(...)"),
            (Frozen({"a"}), "tests.test_offload_codec_exact.Frozen", "frozenset(...)"),
        ],
    )
    def test_a_subclass_is_refused_naming_its_type_and_the_conversion(
        self, value: Any, kind: str, convert: str
    ) -> None:
        with pytest.raises(EncodeError) as caught:
            encode(value)
        message = str(caught.value)
        assert f"{value!r} is a {kind}" in message
        assert message.endswith(f"convert it with {convert}")

    def test_a_subclass_inside_plain_containers_is_refused(self) -> None:
        with pytest.raises(EncodeError, match=re.escape("Point(x=1, y=2) is a")):
            encode([{"at": (Point(1, 2),)}])


@override_settings(TASKS=IMMEDIATE)
class SendTimeTests(TestCase):
    def test_a_named_tuple_argument_fails_the_send_naming_receiver_and_argument(self) -> None:
        article = Article.objects.create(title="Shapes")
        with pytest.raises(OffloadError) as caught:
            article_event.send(sender=None, article=article, values=Point(1, 2), using="default")
        message = str(caught.value)
        assert "'tests.offloadapp.signals.record_event'" in message
        assert "argument 'values'" in message
        assert "would get as a plain tuple" in message

    def test_an_ordered_dict_argument_fails_the_send(self) -> None:
        article = Article.objects.create(title="Ordered")
        with pytest.raises(OffloadError, match=r"collections\.OrderedDict"):
            article_event.send(
                sender=None, article=article, values=collections.OrderedDict(a=1), using="default"
            )


class SnapshotTests(TestCase):
    def test_a_field_holding_a_container_subclass_is_snapshot_as_stored(self) -> None:
        # A reload would give plain containers; the delete must not fail.
        data = collections.OrderedDict(b=collections.Counter("aab"), a=[Point(1, 2)])
        account = Account.objects.create(name="ordered", data={"b": {}, "a": []})
        account.data = data
        rebuilt = decode(json.loads(json.dumps(snapshot(account))), using="default")
        assert rebuilt.data == {"b": {"a": 2, "b": 1}, "a": [(1, 2)]}
        assert type(rebuilt.data) is dict
        assert type(rebuilt.data["b"]) is dict
        assert type(rebuilt.data["a"][0]) is tuple
