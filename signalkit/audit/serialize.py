"""Field values as native JSON: what ``AuditEvent.changes`` stores.

Every value is turned into ``None``, a bool, a number, a string, a list or a
dict, such that the field's own ``to_python`` turns it back into an equal value.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import re
import uuid
from json import encoder as _json_encoder
from typing import TYPE_CHECKING, Any

from django.db.models.fields.files import FieldFile
from django.utils.duration import duration_iso_string

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django.db.models import Model

#: What a masked field's old and new value are replaced with.
MASKED = "[masked]"


def to_json(value: Any, text: Callable[[Any], str] | None = None) -> Any:
    """``value`` as a JSON-native value (recursively for lists and dicts).

    A value of another type becomes ``text(value)``, or ``str(value)``."""
    if isinstance(value, str):
        return value if "\x00" not in value and _encodable(value) else storable(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        # A string: a JSON number would lose the precision and the scale.
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, dict):
        return {to_json(str(key)): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(item) for item in value]
    return str(value) if text is None else text(value)


def same_json(one: Any, other: Any) -> bool:
    """Whether two JSON-native values are the same JSON: ``1``, ``1.0`` and
    ``True`` are three values (Python finds them equal)."""
    if type(one) is not type(other):
        return False
    if type(one) is dict:
        return one.keys() == other.keys() and all(same_json(one[k], other[k]) for k in one)
    if type(one) is list:
        return len(one) == len(other) and all(map(same_json, one, other))
    return bool(one == other)


def object_pk(obj: Model) -> Any:
    """``obj``'s primary key as the log stores it: as its database gives it back.

    A key assigned as text (a UUID's hex form, ``"05"`` for an integer) goes
    through the field's ``to_python()``, so that every save, and
    :func:`~signalkit.audit.history`, name the object the same way."""
    pk = obj.pk
    if type(pk) is str:
        return _key_value(obj._meta.pk, pk)
    if type(pk) is tuple:
        # A CompositePrimaryKey: each of its fields as above ("(1, 'a')", never
        # "('1', 'a')" for the same row).
        fields = getattr(obj._meta.pk, "fields", None)
        if fields and len(fields) == len(pk):
            return tuple(
                _key_value(field, value) if type(value) is str else value
                for field, value in zip(fields, pk, strict=True)
            )
    return pk


def _key_value(field: Any, value: str) -> Any:
    try:
        return field.to_python(value)
    except Exception:
        return value


def storable(text: str) -> str:
    """``text`` as every database stores it, recording must never fail: NUL
    (which PostgreSQL refuses) and lone surrogates (no UTF-8 has them: a JSON
    body's ``"\\ud800"``, a file name from ``os.listdir()``) become U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if not text.isascii():
        text = _SURROGATES.sub("\ufffd", text)
    return text


_SURROGATES = re.compile("[\ud800-\udfff]")


def _encodable(text: str) -> bool:
    # (Far cheaper than the search above: text rarely holds a surrogate.)
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def truncate(value: object, length: int) -> str:
    """``str(value)`` cut to ``length`` characters (never an error)."""
    if type(value) is str and len(value) <= length and "\x00" not in value and _encodable(value):
        return value
    try:
        text = str(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    text = storable(text)
    return text if len(text) <= length else text[: length - 1] + "…"


def _c_encoder() -> Callable[[Any, int], Iterable[str]] | None:
    """The C encoder ``json.dumps()`` builds anew for every call, built once.

    ``json.dumps(value)`` with no options makes an encoder object per call,
    which costs as much as encoding a small ``changes`` dict. Built here with
    ``json.dumps``'s defaults, except the circular-reference check: values that
    went through :func:`to_json` are trees (a cycle would have recursed there).
    Used only if it gives exactly what ``json.dumps`` gives."""
    make = getattr(_json_encoder, "c_make_encoder", None)
    if make is None:
        return None
    defaults = json.JSONEncoder()
    try:
        encoder: Callable[[Any, int], Iterable[str]] = make(
            None,
            defaults.default,
            _json_encoder.encode_basestring_ascii,
            None,
            defaults.key_separator,
            defaults.item_separator,
            False,
            False,
            True,
        )
        probe = {"a": [None, 1, 2.5, True, "é\n"], "b": {"c": []}}
        if "".join(encoder(probe, 0)) != json.dumps(probe):
            return None
    except Exception:
        return None
    return encoder


_encode = _c_encoder()


def dumps(value: Any) -> str:
    """``json.dumps(value)`` for JSON-native values (see :func:`to_json`), faster."""
    if _encode is None or type(value) is not dict:
        return json.dumps(value)
    try:
        return "".join(_encode(value, 0))
    except Exception:
        return json.dumps(value)  # its own error, for a value that is not JSON-native
