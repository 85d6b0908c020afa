"""The JSON codec of offloaded signal arguments.

Task backends accept JSON only. Values JSON cannot carry exactly travel as
one-key tagged objects (every JSON object in a payload is tagged, so a tag
never collides with user data):

==========================  ======================================
value                       encoded as
==========================  ======================================
model instance              ``{"$model": [label, pk, database]}`` (re-fetched)
deleted model instance      ``{"$deleted": [label, {attname: value}]}`` (loaded fields;
                            ``{"$fieldtext": text}`` for a value of another type)
QuerySet that deleted rows  ``{"$emptyqueryset": label}`` (its rows are gone)
model class                 ``{"$modelclass": label}``
enum member (TextChoices)   ``{"$enum": [module, qualname, value]}``
other class                 ``{"$class": [module, qualname]}``
float with exponent, -0.0   ``{"$float": repr}`` (other floats: plain numbers)
UUID / Decimal              ``{"$uuid": str}`` / ``{"$decimal": str}``
bytes-like values           ``{"$bytes": base64}`` (back as bytes)
datetime / date / time      ``{"$datetime": iso}``, ``{"$date": iso}``, ``{"$time": iso}``
the same in a named zone    ``{"$datetime": [iso, zone]}``, ``{"$time": [iso, zone]}``
timedelta                   ``{"$timedelta": [days, seconds, microseconds]}``
tuple / set / frozenset     ``{"$tuple": [...]}``, ``{"$set": [...]}``, ``{"$frozenset": [...]}``
dict with string keys       ``{"$dict": {...}}``
the same, a key as below    ``{"$items": [[key, value], ...]}``
string with NUL, surrogate  ``{"$str": base64}`` (of its UTF-8 bytes)
==========================  ======================================

Sets are sorted (by their encoded JSON), so equal payloads are equal strings.
A JSON number store may rewrite numbers (PostgreSQL's ``jsonb`` stores ``1e+16``
as the integer ``10000000000000000`` and ``-0.0`` as ``0.0``): a float that Python
writes with an exponent, and negative zero, travel as their text.
Subclasses of list, tuple, set, frozenset and dict (named tuples, ``OrderedDict``,
``QueryDict``) are refused (:mod:`signalkit.offload.containers`).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import enum
import json
import uuid
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils.functional import Promise

from signalkit.offload import texts
from signalkit.offload.classes import class_at, importable, qualified
from signalkit.offload.containers import CONTAINERS, as_stored, refusal
from signalkit.offload.errors import EncodeError as EncodeError
from signalkit.offload.numbers import SAFE_BITS, finite, whole
from signalkit.offload.zones import parse_datetime, parse_time, zoned


def encode(value: Any) -> Any:
    """``value`` as JSON-compatible data; :class:`EncodeError` if impossible."""
    if value is None or type(value) is bool:
        return value
    if type(value) is int:
        return value if value.bit_length() < SAFE_BITS else whole(value)
    if type(value) is str:
        # (Most strings are ASCII without a NUL: no call for those.)
        return value if value.isascii() and "\x00" not in value else texts.encoded(value)
    if isinstance(value, enum.Enum):
        # (TextChoices and IntEnum members are str and int too: JSON would turn
        # them into their values on a worker, but not on the immediate backend.)
        cls = type(value)
        if not importable(cls):
            # A worker cannot import it (defined inside a function, or made with
            # Enum("Name", ...) under another name): a str or int one travels
            # as its value, as such members did before they had a tag.
            member: Any = value  # (an enum may be a str, an int or a float too)
            if isinstance(member, str):
                return texts.encoded(str.__str__(member))
            if isinstance(member, int):
                return whole(int.__int__(member))
            if isinstance(member, float):
                return finite(float.__float__(member))
            raise EncodeError(
                f"{value!r} is a member of an enum that a worker cannot import as "
                f"{cls.__module__}.{cls.__qualname__} (defined inside a function?)"
            )
        return {"$enum": [cls.__module__, cls.__qualname__, encode(value.value)]}
    if isinstance(value, str):
        # A subclass (SafeString...) arrives as what JSON makes of it on a
        # worker: a str; the immediate backend must not pass the subclass.
        return texts.encoded(str.__str__(value))
    if isinstance(value, int):
        return whole(int.__int__(value))
    if isinstance(value, float):
        return finite(float.__float__(value))
    if isinstance(value, Model):
        if value.pk is None or value._state.adding:
            # (A primary key with a default is set before the first save.)
            raise EncodeError(f"{value!r} is an unsaved model instance")
        return {"$model": [value._meta.label, encode(value.pk), value._state.db]}
    if isinstance(value, type):
        if issubclass(value, Model):
            return {"$modelclass": value._meta.label}
        if "<locals>" in value.__qualname__:
            raise EncodeError(f"{value!r} is a class defined inside a function")
        # Module and qualified name apart: a class nested in another one
        # ("app.signals.Outer.Inner") is not found by import_string().
        return {"$class": [value.__module__, value.__qualname__]}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime.datetime):
        return {"$datetime": zoned(value)}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"$time": zoned(value)}
    if isinstance(value, datetime.timedelta):
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    # (The exact types: a subclass would reach a worker as the plain container.)
    if type(value) is list:
        return [encode(item) for item in value]
    if type(value) is tuple:
        return {"$tuple": [encode(item) for item in value]}
    if type(value) in (set, frozenset):
        tag = "$frozenset" if isinstance(value, frozenset) else "$set"
        return {tag: sorted((encode(item) for item in value), key=_sort_key)}
    if type(value) is dict:
        if not all(isinstance(key, str) for key in value):
            raise EncodeError(f"{value!r} has keys that are not strings")
        if any(texts.needs_escape(key) for key in value):
            # (Keys as "$dict" gives them: plain strings, an enum member's value.)
            return {
                "$items": [
                    [texts.encoded(str.__str__(key)), encode(item)] for key, item in value.items()
                ]
            }
        return {"$dict": {str.__str__(key): encode(item) for key, item in value.items()}}
    if isinstance(value, CONTAINERS):
        raise EncodeError(refusal(value))
    raise EncodeError(_unsupported(value))


def _unsupported(value: Any) -> str:
    # (Never the repr of a QuerySet: it would run the query.)
    if isinstance(value, Promise):
        return "a lazy string (gettext_lazy()): send str() of it where you send the signal"
    if isinstance(value, QuerySet):
        return (
            f"a QuerySet of {value.model._meta.label}: send a list of its primary keys "
            f"(list(queryset.values_list('pk', flat=True)))"
        )
    return f"{type(value).__qualname__} values cannot be sent to a task worker"


def _sort_key(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def snapshot(instance: Model) -> dict[str, Any]:
    """The encoded field values of ``instance`` (for a deleted row): the fields it
    has loaded; a deferred one cannot be read from a row that is gone."""
    values: dict[str, Any] = {}
    loaded = instance.__dict__
    for field in instance._meta.concrete_fields:
        if field.attname not in loaded:
            continue
        value = field.value_from_object(instance)
        if hasattr(value, "resolve_expression"):
            # Saved as an expression (F("stock") - 1), which Django 5.2 leaves on
            # the instance: the row held another value, unknown here (deferred).
            continue
        if isinstance(value, FieldFile):
            value = value.name
        value = as_stored(value)
        try:
            values[field.attname] = encode(value)
        except EncodeError as error:
            # A value of the field's own type (a range, a geometry, a phone
            # number): as Django's serializers carry it, its text, turned back
            # by the field's to_python() (as loaddata does).
            try:
                values[field.attname] = {"$fieldtext": encode(field.value_to_string(instance))}
            except Exception:
                raise EncodeError(f"field {field.name!r}: {error}") from error
    return {"$deleted": [instance._meta.label, values]}


class Missing(LookupError):
    """A model instance of the payload no longer exists in the database."""

    def __init__(self, label: str, pk: Any) -> None:
        super().__init__(f"{label} with pk {pk!r} no longer exists")
        self.label = label
        self.pk = pk


def decode(data: Any, *, using: str | None, none_if_missing: bool = False) -> Any:
    """The value that :func:`encode` encoded; model instances are re-fetched
    from database ``using`` (its router's choice when ``None``).

    A row deleted meanwhile raises :class:`Missing`, or becomes ``None`` with
    ``none_if_missing`` (once in a set, however many of its rows are gone).
    """
    if isinstance(data, list):
        return [decode(item, using=using, none_if_missing=none_if_missing) for item in data]
    if not isinstance(data, dict):
        return data
    ((tag, value),) = data.items()
    if tag == "$dict":
        return {
            key: decode(item, using=using, none_if_missing=none_if_missing)
            for key, item in value.items()
        }
    if tag == "$items":
        return {
            texts.decoded(key): decode(item, using=using, none_if_missing=none_if_missing)
            for key, item in value
        }
    if tag in ("$tuple", "$set", "$frozenset"):
        kind = {"$tuple": tuple, "$set": set, "$frozenset": frozenset}[tag]
        return kind(decode(item, using=using, none_if_missing=none_if_missing) for item in value)
    if tag == "$model":
        # The instance's own database (payloads queued before it was sent had none).
        database = value[2] if len(value) > 2 and value[2] is not None else using
        return _fetch(value[0], decode(value[1], using=using), database, none_if_missing)
    if tag == "$deleted":
        return _rebuild(value[0], value[1], using)
    if tag == "$enum":
        module, qualname, member = value
        cls = qualified(module, qualname, "an enum")
        if not issubclass(cls, enum.Enum):
            # (Called with a value from the payload: never any other callable.)
            raise TypeError(f"{module}.{qualname} is not an enum.")
        return cls(decode(member, using=using))
    return _SCALARS[tag](value)


def _model(label: str) -> type[Model]:
    from django.apps import apps

    return apps.get_model(label)


def _fetch(label: str, pk: Any, using: str | None, none_if_missing: bool) -> Any:
    model = _model(label)
    manager = model._base_manager.db_manager(using) if using else model._base_manager
    try:
        return manager.get(pk=pk)
    except ObjectDoesNotExist:
        if none_if_missing:
            return None
        raise Missing(label, pk) from None


def _rebuild(label: str, values: dict[str, Any], using: str | None) -> Model:
    # As the ORM loads a row: fields the snapshot lacks stay deferred (not
    # defaults), and the instance is not new.
    model = _model(label)
    fields = [field for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(
        using,
        [field.attname for field in fields],
        [_field_value(field, values[field.attname], using) for field in fields],
    )


def _field_value(field: Any, data: Any, using: str | None) -> Any:
    if isinstance(data, dict) and "$fieldtext" in data:
        return field.to_python(decode(data["$fieldtext"], using=using))
    return decode(data, using=using)


_SCALARS: dict[str, Any] = {
    "$modelclass": _model,
    "$class": class_at,
    "$emptyqueryset": lambda label: _model(label)._base_manager.none(),
    "$uuid": uuid.UUID,
    "$decimal": decimal.Decimal,
    "$bytes": base64.b64decode,
    "$float": float,
    "$str": texts.unescaped,
    "$datetime": parse_datetime,
    "$date": datetime.date.fromisoformat,
    "$time": parse_time,
    "$timedelta": lambda parts: datetime.timedelta(*parts),
}
