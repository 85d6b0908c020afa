"""Subclasses of the containers an offload payload carries: named tuples,
``OrderedDict``, ``defaultdict``, ``Counter``, ``QueryDict``...

A worker would get the plain list, tuple, set, frozenset or dict, so the codec
refuses them, saying how to convert them. They cannot travel as themselves: a
worker only looks up the classes a payload names and calls none but an enum,
while a named tuple's class or a ``defaultdict``'s factory could be any callable.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CONTAINERS", "as_stored", "refusal"]

CONTAINERS = (list, tuple, frozenset, set, dict)


def _base(value: Any) -> type:
    return next(kind for kind in CONTAINERS if isinstance(value, kind))


def refusal(value: Any) -> str:
    """Why ``value``, an instance of a subclass of a container, cannot travel."""
    cls = type(value)
    name = f"{cls.__module__}.{cls.__qualname__}"
    if isinstance(value, dict) and cls.__getitem__ is not dict.__getitem__:
        return f"{name} may hold several values per key; send a dict (its lists(), for a QueryDict)"
    base = _base(value).__name__
    convert = f"{base}(...)"
    if base == "tuple" and callable(getattr(cls, "_asdict", None)):
        convert = "its _asdict() (a dict) or tuple(...)"  # a named tuple
    return (
        f"{value!r} is a {name}, which a worker would get as a plain {base}; "
        f"convert it with {convert}"
    )


def as_stored(value: Any) -> Any:
    """A field's value as a reload from the database gives it: plain containers.

    A container field (``JSONField``, ``ArrayField``) may hold what was assigned
    (an ``OrderedDict``); a deleted row cannot be read again, and its snapshot
    must not fail the delete for a type the column never kept.
    """
    if isinstance(value, dict):
        if type(value).__getitem__ is not dict.__getitem__:
            return value  # (the codec refuses it: items() would drop values)
        return {key: as_stored(item) for key, item in value.items()}
    if isinstance(value, CONTAINERS):
        return _base(value)(as_stored(item) for item in value)
    return value
