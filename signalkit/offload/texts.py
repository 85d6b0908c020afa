"""Strings that a JSON store cannot keep as JSON strings.

PostgreSQL's ``jsonb`` (where the database task backend keeps its tasks)
refuses ``\\u0000``, and a JSON store refuses a lone surrogate (``"\\ud800"``, a
string Python holds after decoding bytes with ``surrogateescape``): a string
with either travels as the base64 of its UTF-8 bytes (surrogates passed
through), so that it neither fails the enqueue nor comes back changed.
"""

from __future__ import annotations

import base64
import re
from typing import Any

__all__ = ["decoded", "encoded", "escaped", "needs_escape", "unescaped"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def needs_escape(text: str) -> bool:
    """Whether ``text`` holds a character a JSON store refuses."""
    # Every string of a payload passes here: "in" and isascii() cost next to
    # nothing, where a regular expression reads a long string character by
    # character; only a non-ASCII one can hold a surrogate.
    if "\x00" in text:
        return True
    return not text.isascii() and _SURROGATE.search(text) is not None


def encoded(text: str) -> str | dict[str, str]:
    """``text`` as the offload codec sends it: itself, or ``{"$str": escaped}``."""
    return {"$str": escaped(text)} if needs_escape(text) else text


def decoded(data: Any) -> str:
    """The string that :func:`encoded` wrote, and nothing else: a dict key of a
    payload is a string, never a tagged value (an instance to re-fetch, a class
    to import), whatever the payload says."""
    if isinstance(data, str):
        return data
    if isinstance(data, dict) and list(data) == ["$str"] and isinstance(data["$str"], str):
        return unescaped(data["$str"])
    raise TypeError(f"{data!r} is not a dict key of an offload payload (a string).")


def escaped(text: str) -> str:
    """``text`` as the base64 of its UTF-8 bytes, lone surrogates included."""
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


def unescaped(data: str) -> str:
    """The string that :func:`escaped` wrote."""
    return base64.b64decode(data).decode("utf-8", "surrogatepass")
