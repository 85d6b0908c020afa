"""Methods of the audited models wrapped while they are audited.

Django sends no signal when an instance is refreshed, nor when a save ends
without its ``post_save`` (it failed), nor for ``bulk_create()``: the audit wraps
``refresh_from_db`` and ``save_base`` of the audited models, and
``QuerySet.bulk_create``, while their receivers are connected, as FieldTracker
of django-model-utils does, and restores them when they are disconnected.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

_ABSENT = object()


class Wrapping:
    """The wrappers of one method, installed once per class hierarchy path."""

    def __init__(self, name: str, mark: str) -> None:
        self.name = name
        self.mark = mark  # an attribute set on the wrappers
        # (class, what its own __dict__ held under the name, or _ABSENT)
        self.patched: list[tuple[type[Any], Any]] = []

    def patch(
        self,
        models: Iterable[type[Any]],
        wrap: Callable[[Callable[..., Any]], Callable[..., Any]],
    ) -> None:
        for model in models:  # (models, or QuerySet)
            current = getattr(model, self.name)
            if getattr(current, self.mark, False):
                continue  # inherited from a class wrapped already
            self.patched.append((model, model.__dict__.get(self.name, _ABSENT)))
            wrapper = wrap(current)
            setattr(wrapper, self.mark, True)
            setattr(model, self.name, wrapper)

    def unpatch(self) -> None:
        while self.patched:
            model, own = self.patched.pop()
            if own is _ABSENT:
                if self.name in model.__dict__:
                    delattr(model, self.name)
            else:
                setattr(model, self.name, own)


def fitting(
    method: Callable[..., Any], exact: Callable[..., Any], general: Callable[..., Any]
) -> Callable[..., Any]:
    """``exact``, a wrapper that passes its arguments on by position, if ``method``
    takes the same parameters (Django's own method does); else ``general``, which
    passes on ``*args`` and ``**kwargs`` -- costing more than the rest of a light
    wrapper."""
    return exact if _parameters(method) == _parameters(exact) else general


def _parameters(function: Callable[..., Any]) -> list[tuple[str, Any, Any]] | None:
    try:
        # Its own parameters: a decorator's wrapper reports those of the function
        # it wraps, but may take others (follow_wrapped=False).
        signature = inspect.signature(function, follow_wrapped=False)
    except (TypeError, ValueError):
        return None
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]
