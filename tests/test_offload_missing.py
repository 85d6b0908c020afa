"""Instances gone before the worker runs, inside containers, with
``SIGNALKIT["OFFLOAD"]["MISSING"] = "none"``: ``None`` takes each one's place,
and a set holds it once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import TestCase, TransactionTestCase, override_settings

from signalkit.offload.codec import EncodeError, Missing, decode, encode
from tests.offloadapp.models import Article, Effect
from tests.offloadapp.signals import article_event
from tests.workers import require_services, run_worker, worker_settings


def travelled(value: Any) -> Any:
    return decode(json.loads(json.dumps(encode(value))), using="default", none_if_missing=True)


class CodecTests(TestCase):
    def test_each_place_an_instance_held_gets_none_and_a_set_holds_it_once(self) -> None:
        first, second, kept = (Article.objects.create(title=title) for title in "abc")
        value = {
            "list": [first, second, kept],
            "tuple": (first, second),
            "dict": {"x": first, "y": second},
            "set": {first, second, kept},
            "frozenset": frozenset({first, second}),
        }
        Article.objects.filter(pk__in=[first.pk, second.pk]).delete()
        assert travelled(value) == {
            "list": [None, None, kept],
            "tuple": (None, None),
            "dict": {"x": None, "y": None},
            # Two rows gone, one None: a set cannot hold it twice.
            "set": {None, kept},
            "frozenset": frozenset({None}),
        }

    def test_without_none_a_member_of_a_set_that_is_gone_is_missing(self) -> None:
        gone = Article.objects.create(title="Gone")
        payload = encode({gone, Article.objects.create(title="Kept")})
        Article.objects.filter(pk=gone.pk).delete()
        with pytest.raises(Missing, match="no longer exists"):
            decode(payload, using="default")

    def test_an_instance_is_never_a_dict_key(self) -> None:
        # Refused when the signal is sent: no key of a payload needs re-fetching.
        with pytest.raises(EncodeError, match="keys that are not strings"):
            encode({Article.objects.create(title="Key"): 1})


@pytest.fixture(scope="session")
def _services() -> None:
    require_services()


@pytest.mark.usefixtures("_services")
class WorkerTests(TransactionTestCase):
    databases = {"default", "offload"}

    def test_a_worker_passes_none_in_a_list_and_once_in_a_set(self) -> None:
        def create(title: str) -> Article:
            return Article.objects.using("offload").create(title=title)

        with override_settings(**worker_settings("database")):
            first, second, kept = create("first"), create("second"), create("kept")
            values = {"list": [first, second], "set": {first, second}}
            article_event.send(sender=None, article=kept, values=values, using="offload")
            Article.objects.using("offload").filter(pk__in=[first.pk, second.pk]).delete()
            run_worker("database", missing="none")
        (effect,) = Effect.objects.using("offload").filter(receiver="record_event")
        assert effect.data["values"] == [
            "dict",
            {"list": ["list", "[None, None]"], "set": ["set", "[None]"]},
        ]
