"""What a column keeps: the conversions that turn a value assigned to a field
into the value the database stores, before it is recorded and compared (a
``Decimal`` rounded to the field's places, a naive datetime made aware, an IPv6
address compressed, an array's items one by one, an hstore's values as text,
NaN as NULL on SQLite)."""

from __future__ import annotations

import datetime
import decimal
import json
import math
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, router
from django.db.models import FileField
from django.db.models.fields.files import FieldFile
from django.utils import timezone

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["as_text", "compared", "encoded", "exact", "native", "recorded"]

# Fields whose values users often assign as strings or numbers ("1.50", 0,
# "2024-01-01"): converted with the field's to_python before recording.
_TYPED = frozenset(
    {"DecimalField", "DateField", "DateTimeField", "TimeField", "UUIDField", "DurationField"}
)


# Fields whose values come back from the database as one Python type: a value
# of another type ("3" for a key, 1 for a boolean) is converted with the
# field's to_python before recording, so that it is recorded as a later load
# of the row would give it (3, True), not as assigned.
_NATIVE: dict[str, type] = {
    **dict.fromkeys(
        (
            "AutoField",
            "BigAutoField",
            "SmallAutoField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveBigIntegerField",
            "PositiveSmallIntegerField",
        ),
        int,
    ),
    "FloatField": float,
    "BooleanField": bool,
}


# Django's own text fields: a number given to one is kept as its text (5 as
# "5"). (A custom subclass may convert its values otherwise.)
_TEXT = frozenset({"CharField", "SlugField", "TextField"})


def native(field: Any) -> type | None:
    """The one Python type the column's values come back as, if it has one (a
    foreign key's is its target's)."""
    if field.is_relation and (field.many_to_one or field.one_to_one):
        return native(field.target_field)
    kind = field.get_internal_type()
    if kind in _TEXT:
        return str if type(field).__module__.startswith("django.") else None
    return _NATIVE.get(kind)


# Django's own fields whose column keeps a value of this type as it is: two such
# values that differ are a change, without converting them to compare.
_EXACT: dict[str, type] = {
    **{kind: int for kind, kept in _NATIVE.items() if kept is int},
    "BooleanField": bool,
    "CharField": str,
    "SlugField": str,
    "TextField": str,
}


def exact(field: Any) -> type | None:
    """The type whose values the column keeps unconverted, if the field has one
    (a float has NaN, which differs from itself; a custom field converts as it
    likes)."""
    if field.is_relation and (field.many_to_one or field.one_to_one):
        return exact(field.target_field)
    if not type(field).__module__.startswith("django."):
        return None
    return _EXACT.get(field.get_internal_type())


def as_text(field: Any) -> Callable[[Any], str]:
    """A custom field's ``value_to_string()`` -- its text for serializers, which its
    ``to_python()`` turns back -- for a value rather than an instance."""
    attname = field.attname

    def text(value: Any) -> str:
        return str(field.value_to_string(SimpleNamespace(**{attname: value})))

    return text


def recorded(field: Any) -> Callable[[Any], Any] | None:
    """The conversion of a value to what the column keeps, before it is recorded."""
    if field.is_relation and (field.many_to_one or field.one_to_one):
        # A key as its target's column keeps it: "3" as 3, a UUID's hex form
        # (a form's, a URL's) as the UUID a load of the row gives.
        return recorded(field.target_field)
    kind = field.get_internal_type()
    if kind == "ArrayField":  # PostgreSQL's: its items as its base field keeps them
        return _each(recorded(field.base_field))
    if kind == "GenericIPAddressField":
        return _address(field)
    if isinstance(field, FileField):
        return _file_name
    if kind == "HStoreField":  # PostgreSQL's: keys and values stored as text
        return field.get_prep_value  # type: ignore[no-any-return]
    if encoded(field):
        return _encoded(field)
    kept = native(field)
    if kept is float:
        return _not_a_number(field, field.to_python)
    if kept is not None:
        return field.to_python  # type: ignore[no-any-return]
    if kind not in _TYPED:
        return None
    convert = _rounding(field, field.to_python)
    return _zoned(convert) if kind == "DateTimeField" else convert


def compared(field: Any) -> Callable[[Any], Any]:
    """What the column is given for a value: two values giving the same are no change."""
    kind = field.get_internal_type()
    if kind == "ArrayField":
        return _each(compared(field.base_field))  # type: ignore[return-value]
    if kind == "GenericIPAddressField":
        return _address(field)
    if encoded(field):
        return _encoded(field)
    if native(field) is float:
        return _not_a_number(field, field.get_prep_value)
    convert = _rounding(field, field.get_prep_value)
    # An aware datetime and the naive one a load gives without USE_TZ (or the
    # reverse) are one value when the column keeps the same instant.
    return _zoned(convert) if kind == "DateTimeField" else convert


def encoded(field: Any) -> bool:
    """Whether a JSON field writes its values with an encoder of its own."""
    return field.get_internal_type() == "JSONField" and getattr(field, "encoder", None) is not None


def _encoded(field: Any) -> Callable[[Any], Any]:
    """A JSON field's value as its encoder writes it into the column, read back
    as plain JSON: ``DjangoJSONEncoder`` keeps a datetime to the millisecond, as
    text."""
    encoder = field.encoder

    def encode(value: Any) -> Any:
        return json.loads(json.dumps(value, cls=encoder))

    return encode


def _each(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """``convert`` applied to each item of a list (an ``ArrayField``'s value)."""
    if convert is None:
        return None

    def each(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [None if item is None else convert(item) for item in value]
        return value

    return each


def _address(field: Any) -> Callable[[Any], Any]:
    """A ``GenericIPAddressField``'s value as stored: IPv6 compressed, and a blank
    one (``""``, what its form field gives) as NULL, as the backends adapt it."""
    prepare = field.get_prep_value

    def address(value: Any) -> Any:
        return prepare(value) or None

    return address


def _file_name(value: Any) -> Any:
    """A file by its name, an empty one (``""`` in the column; a ``FieldFile``
    without a name on a new instance) as ``None``."""
    name = value.name if isinstance(value, FieldFile) else value
    return name or None


def _zoned(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, and a datetime in the form the column keeps it: a naive one made
    aware in the default time zone when ``USE_TZ`` is on (as Django does before
    saving it, with a warning), an aware one made naive there when it is off
    (PostgreSQL stores the instant, and gives it back in that zone)."""

    def zoned(value: Any) -> Any:
        value = convert(value)
        if isinstance(value, datetime.datetime):
            if settings.USE_TZ:
                if timezone.is_naive(value):
                    return timezone.make_aware(value, timezone.get_default_timezone())
            elif timezone.is_aware(value):
                return timezone.make_naive(value, timezone.get_default_timezone())
        return value

    return zoned


def _not_a_number(field: Any, convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, and on SQLite, which stores NaN as NULL, NaN as ``None``."""
    if _vendor(field) != "sqlite":
        return convert

    def number(value: Any) -> Any:
        value = convert(value)
        return None if isinstance(value, float) and math.isnan(value) else value

    return number


def _vendor(field: Any) -> str:
    """The vendor of the database the field's model is written to."""
    return str(connections[router.db_for_write(field.model)].vendor)


def _rounding(field: Any, convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, and for a ``DecimalField`` the value rounded to the field's
    places as the database keeps it (``Decimal("1.234")`` is stored as 1.23)."""
    # A GeneratedField has its type, places and digits in its output field.
    shape = field.output_field if getattr(field, "generated", False) else field
    if shape.get_internal_type() != "DecimalField" or shape.decimal_places is None:
        return convert
    exponent = decimal.Decimal(1).scaleb(-shape.decimal_places)
    # Ties: PostgreSQL and MySQL round them away from zero; Django rounds what
    # SQLite gives back to even.
    vendor = _vendor(field)
    rounding = decimal.ROUND_HALF_EVEN if vendor == "sqlite" else decimal.ROUND_HALF_UP
    context = decimal.Context(prec=shape.max_digits, rounding=rounding)

    def rounded(value: Any) -> Any:
        if type(value) is not decimal.Decimal:  # a Decimal needs no to_python()
            value = convert(value)
        if isinstance(value, decimal.Decimal) and value.is_finite():
            return value.quantize(exponent, context=context)
        return value

    return rounded
