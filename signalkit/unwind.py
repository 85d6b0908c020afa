"""Undoing the connections of a module whose import failed halfway.

A module that raises halfway through its import keeps the connections it made
before the error: Python drops the module from ``sys.modules``, but its
functions live on (the traceback holds the module's namespace, and Django's
autoreloader keeps the traceback), and ``weak=False`` receivers are held by the
signal itself. The next import of the module (autodiscovery tried again, or the
module fixed and imported from a shell) makes new receivers and connects them
beside the old ones: every receiver fires twice. Django's admin undoes the
registrations of a failed ``admin.py`` for the same reason (ticket #8245).

What is undone is what the failed modules' code connected while they were
imported, as :mod:`signalkit.recording` noted it, whatever the receiver (a
function of theirs, a ``functools.partial`` of another module's function, an
object), including connections by model label still waiting for their model.
A module they imported that finished its import stays in ``sys.modules``, is not
run again, and keeps its connections; a connection the failed module asked for
under a lookup key already taken was ignored by Django, and is left alone.
"""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING, Any

from signalkit.entries import disconnect_where, make_id
from signalkit.recording import drop_waiting

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.dispatch import Signal

    from signalkit.recording import Recording

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


def disconnect_failed_modules(exc: BaseException, made: Recording) -> int:
    """Undo the connections that the modules whose import ``exc`` interrupted
    made, as noted in ``made``: disconnect them, and drop those still waiting
    for their model. Returns how many."""
    namespaces = failed_namespaces(exc)

    def failed(namespace: dict[str, Any] | None) -> bool:
        return namespace is not None and any(namespace is other for other in namespaces)

    chosen: dict[Signal, list[tuple[Any, Any]]] = {}
    for connection in made.made:
        if failed(connection.namespace):
            chosen.setdefault(connection.signal, []).append(
                (connection.key, connection.receiver_id)
            )
    count = sum(disconnect_where(signal, _among(pairs)) for signal, pairs in chosen.items())
    for waiting in [waiting for waiting in made.waiting if failed(waiting.namespace)]:
        count += drop_waiting(waiting)
    return count


def _among(pairs: list[tuple[Any, Any]]) -> Callable[[tuple[Any, Any], Any], bool]:
    # (By equality, as Django compares lookup keys: a dispatch_uid may be unhashable.)
    return lambda key, receiver: (key, make_id(receiver)) in pairs
