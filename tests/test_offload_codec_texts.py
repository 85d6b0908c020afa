"""Strings a JSON store refuses: PostgreSQL's jsonb rejects ``\\u0000``, and a
lone surrogate is no valid JSON text."""

from __future__ import annotations

import enum
import json

from django.utils.safestring import mark_safe

from signalkit.offload.codec import decode, encode

# A NUL (a webhook body, a C string) and lone surrogates (bytes decoded with
# surrogateescape), alone, at the ends, and beside characters outside the BMP.
TEXTS = ["a\x00b", "\x00", "\udcff", "x\ud800", "\ud83d\ude00 ok \x00", "é\x00€😀"]


class Mood(enum.StrEnum):
    ODD = "odd\x00"


def travelled(value: object) -> object:
    # Through the JSON text a backend stores: no NUL, no lone surrogate in it
    # (which UTF-8 cannot encode).
    text = json.dumps(encode(value), ensure_ascii=False)
    assert "\x00" not in text
    assert "\\u0000" not in text
    text.encode("utf-8")
    return decode(json.loads(text), using=None)


class TextTests:
    def test_a_string_a_json_store_refuses_arrives_as_the_same_string(self) -> None:
        for text in TEXTS:
            assert travelled(text) == text
            assert type(travelled(text)) is str

    def test_ordinary_strings_stay_plain_json_strings(self) -> None:
        assert encode("plain é 😀") == "plain é 😀"
        assert encode({"k": "v"}) == {"$dict": {"k": "v"}}

    def test_such_strings_inside_containers_as_keys_and_subclasses(self) -> None:
        value = {"key\x00": ["a\x00", ("\udcff",), {"n": "\x00"}], "plain": 1}
        assert travelled(value) == value
        assert travelled(mark_safe("<b>\x00</b>")) == "<b>\x00</b>"
        assert travelled(Mood.ODD) is Mood.ODD

    def test_keys_are_plain_strings_whether_or_not_another_key_is_escaped(self) -> None:
        # An enum key arrives as its value in "$dict": so it does beside a key
        # that needs an escape.
        for value in ({Mood.ODD: 1}, {Mood.ODD: 1, "a\x00": 2}):
            decoded = travelled(value)
            assert isinstance(decoded, dict)
            assert [type(key) for key in decoded] == [str] * len(value)
