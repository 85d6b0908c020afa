"""Whether two receivers offloaded under one key are one: a worker finds a
receiver by its key, so two that share it must be the same callable (or the
same function defined again), never one a worker could run for the other."""

from __future__ import annotations

from functools import partial
from types import FunctionType, MethodType
from typing import Any

from signalkit import keys

__all__ = ["same_receiver"]


def same_receiver(first: Any, second: Any) -> bool:
    """Whether two receivers connected under one key are one: the same callable,
    or the same function defined again (a module imported twice or reloaded
    defines a new function object with the same name). Bound methods of other
    objects, partials with other arguments, closures and callable objects differ:
    a worker could run one for the other."""
    if first is second:
        return True
    if isinstance(first, MethodType) or isinstance(second, MethodType):
        return (
            isinstance(first, MethodType)
            and isinstance(second, MethodType)
            and _same_object(first.__self__, second.__self__)
            and same_receiver(first.__func__, second.__func__)
        )
    if isinstance(first, partial) or isinstance(second, partial):
        return (
            isinstance(first, partial)
            and isinstance(second, partial)
            and _equal(first.args, second.args)
            and _equal(first.keywords, second.keywords)
            and same_receiver(first.func, second.func)
        )
    if _closure(first) or _closure(second):
        return False  # (a decorator's wrapper holds what it wraps in its closure)
    if not _same_object(type(first), type(second)):
        # A decorator's wrapper object and the function it wraps share a key.
        return False
    first, second = keys.unwrap(first), keys.unwrap(second)
    if first is second:
        return True
    return (
        isinstance(first, FunctionType)
        and isinstance(second, FunctionType)
        and not (_closure(first) or _closure(second))
        and "<lambda>" not in first.__qualname__
        and first.__module__ == second.__module__
        and first.__qualname__ == second.__qualname__
    )


def _closure(func: Any) -> bool:
    return isinstance(func, FunctionType) and func.__closure__ is not None


def _same_object(first: Any, second: Any) -> bool:
    # A class (a classmethod's) defined again by a reload is the same one.
    if first is second:
        return True
    return (
        isinstance(first, type)
        and isinstance(second, type)
        and first.__module__ == second.__module__
        and first.__qualname__ == second.__qualname__
    )


def _equal(first: Any, second: Any) -> bool:
    try:
        return bool(first == second)
    except Exception:
        return False
