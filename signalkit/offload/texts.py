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

__all__ = ["escaped", "needs_escape", "unescaped"]

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def needs_escape(text: str) -> bool:
    """Whether ``text`` holds a character a JSON store refuses."""
    return _UNSAFE.search(text) is not None


def escaped(text: str) -> str:
    """``text`` as the base64 of its UTF-8 bytes, lone surrogates included."""
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


def unescaped(data: str) -> str:
    """The string that :func:`escaped` wrote."""
    return base64.b64decode(data).decode("utf-8", "surrogatepass")
