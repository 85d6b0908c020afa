"""Disconnecting the receivers of a module whose import failed halfway.

A module that raises halfway through its import keeps the receivers it
connected before the error: Python drops the module from ``sys.modules``, but
its functions live on (the traceback holds the module's namespace, and Django's
autoreloader keeps the traceback), and ``weak=False`` receivers are held by the
signal itself. The next import of the module (autodiscovery tried again, or the
module fixed and imported from a shell) defines new functions and connects
them beside the old ones: every receiver fires twice. Django's admin undoes the
registrations of a failed ``admin.py`` for the same reason (ticket #8245).

Only receivers *defined* in the failed modules are disconnected: a module they
imported that finished its import stays in ``sys.modules``, is not run again,
and keeps its receivers; a function of such a module that the failed module
connected is connected again under the same lookup key, which Django
de-duplicates.
"""

from __future__ import annotations

import sys
import traceback
from types import FunctionType
from typing import Any

from signalkit.entries import disconnect_where
from signalkit.keys import unwrap

__all__ = ["disconnect_failed_modules", "failed_namespaces"]


def failed_namespaces(exc: BaseException) -> list[dict[str, Any]]:
    """The namespaces of the modules ``exc`` interrupted while they were being
    imported (its own traceback and those of the exceptions it chains to), which
    are no longer those of modules in ``sys.modules``."""
    found: list[dict[str, Any]] = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        for frame, _ in traceback.walk_tb(current.__traceback__):
            namespace = frame.f_globals
            if frame.f_code.co_name != "<module>" or namespace is not frame.f_locals:
                continue  # (a function's frame, or code run by exec() with its own locals)
            module = sys.modules.get(namespace.get("__name__", ""))
            if getattr(module, "__dict__", None) is not namespace and not any(
                namespace is other for other in found
            ):
                found.append(namespace)
        todo += [current.__cause__, current.__context__]
    return found


def disconnect_failed_modules(exc: BaseException) -> int:
    """Disconnect the receivers defined in the modules whose import ``exc``
    interrupted, from every signal the registry knows; returns how many."""
    namespaces = failed_namespaces(exc)
    if not namespaces:
        return 0
    from signalkit.registry import registry

    def defined_there(receiver: Any) -> bool:
        namespace = _namespace(unwrap(receiver))
        return namespace is not None and any(namespace is failed for failed in namespaces)

    return sum(
        disconnect_where(info.signal, defined_there)
        for info in registry.signals()
        if info.signal is not None
    )


def _namespace(target: Any) -> dict[str, Any] | None:
    """The module namespace ``target``'s code was defined in: a function's
    globals; for a class (connected as a receiver) or a callable object, the
    globals of a function defined in the body of that class."""
    if isinstance(target, FunctionType):
        return target.__globals__
    cls = target if isinstance(target, type) else type(target)
    for value in vars(cls).values():
        if isinstance(value, FunctionType):
            return value.__globals__
    return None
