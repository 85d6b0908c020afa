"""How one audited field's values are recorded: its :class:`FieldPlan` and the
JSON encoder built from it, which the receivers call for every value."""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from signalkit.audit.serialize import MASKED, to_json

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["FieldPlan", "Unresolved"]


class Unresolved(Exception):
    """Raised by an encoder for a value that is an expression (``F("n") + 1``,
    ``Now()``): what the database stored is not on the instance (Django 5.2)."""


def _other(value: Any) -> Any:
    # The slow path of every encoder: values of less common types.
    if hasattr(value, "resolve_expression"):
        raise Unresolved
    return to_json(value)


@dataclass(frozen=True)
class FieldPlan:
    name: str
    attname: str
    masked: bool
    # The field's to_python (a date for a datetime, a UUID for its text), a
    # Decimal rounded to the field's places: the value as the column keeps it.
    convert: Callable[[Any], Any] | None = None
    # A custom field's value_to_string(), for values of its own type.
    text: Callable[[Any], str] | None = None
    # The one type the column's values come back as (int for an integer or a
    # key): values of that type are recorded as they are, others converted.
    native: type | None = None

    def encoder(self) -> Callable[[Any], Any]:
        """The JSON form of a value as this field stores it, as a plain function
        with fast paths for common values; never raises."""
        if self.masked:
            return _masked
        convert = self.convert
        text = self.text
        # (A float is checked by to_json(): JSON has no NaN.) A custom field's
        # values come back as its from_db_value() gives them, which need not be
        # of the column's type (an enum for an integer): its to_python() decides.
        native = self.native if self.native is not float and text is None else None
        if convert is not None and native is str:
            # A text field's: text as it is (a NUL replaced by to_json()),
            # another value as the text the column keeps (5 as "5").
            def textual(value: Any) -> Any:
                if type(value) is str:
                    return value if "\x00" not in value else to_json(value)
                if value is None:
                    return None
                if hasattr(value, "resolve_expression"):
                    raise Unresolved  # (its text is no value the column keeps)
                try:  # noqa: SIM105
                    value = convert(value)
                except Exception:
                    pass
                return to_json(value)

            return textual
        if convert is not None:
            # A custom field's value, converted, is recorded as its serializers'
            # text ("2", not "Level.HIGH", which its to_python() cannot read).
            finish = _other if text is None else _texted(text)

            def typed(value: Any) -> Any:
                if value is None:
                    return None
                if type(value) is native:
                    return value
                # Recorded as given if it cannot be converted (the save will
                # fail). (contextlib.suppress would cost more than converting.)
                try:  # noqa: SIM105
                    value = convert(value)
                except Exception:
                    pass
                if type(value) is decimal.Decimal:
                    return str(value)  # what to_json() gives, without its checks
                return finish(value)

            return typed
        if text is not None:
            texted = _texted(text)

            def custom(value: Any) -> Any:
                kind = type(value)
                if kind is int or value is None or kind is str:
                    return to_json(value)
                return texted(value)

            return custom
        return _plain


def _texted(text: Callable[[Any], str]) -> Callable[[Any], Any]:
    """The JSON form of a custom field's value: its ``text`` if JSON has none."""

    def texted(value: Any) -> Any:
        if hasattr(value, "resolve_expression"):
            raise Unresolved
        try:
            return to_json(value, text)
        except Exception:
            return to_json(value)

    return texted


def _masked(value: Any) -> Any:
    if value is not None and type(value) is not str and hasattr(value, "resolve_expression"):
        raise Unresolved  # never stored, but the snapshot must not keep it
    return MASKED


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is int or value is None or (kind is str and "\x00" not in value):
        return value
    return _other(value)
