"""Finding objects in the namespaces of loaded modules.

Signals have no names; the name of a signal is the variable it is bound to in a
module. Modules are read through their ``__dict__`` only: no attribute access
(which would load a lazily loaded module or run a module ``__getattr__``) and no
``isinstance`` on the values (which would evaluate lazy objects such as
``default_storage``); only ``type(value)`` is tested. The garbage collector is
never walked.
"""

from __future__ import annotations

import sys
import weakref
from types import ModuleType
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# The module ``__dict__`` descriptor: reads a module's namespace without
# triggering a lazy module's loading (``vars()`` would).
_namespace: Callable[[ModuleType], dict[str, Any]] = ModuleType.__dict__["__dict__"].__get__  # type: ignore[index]


def _namespaces() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, module in list(sys.modules.items()):
        if not issubclass(type(module), ModuleType):  # e.g. typing.io, a class
            continue
        try:
            namespace = _namespace(module)
        except Exception:  # an exotic module type
            continue
        yield name, namespace


def signal_types() -> set[type]:
    """:class:`~django.dispatch.Signal` and all its subclasses."""
    found: set[type] = set()
    todo: list[type] = [Signal]
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.add(cls)
            todo += cls.__subclasses__()
    return found


def _matching(namespace: dict[str, Any], types: set[type]) -> list[tuple[str, Any]]:
    # No copy of the namespace: iterating in place allocates nothing, so a scan
    # of thousands of modules triggers no garbage collection.
    try:
        return [(n, v) for n, v in namespace.items() if type(v) in types]
    except RuntimeError:  # another thread changed the module meanwhile
        return [(n, v) for n, v in list(namespace.items()) if type(v) in types]


def _rank(module: str) -> tuple[int, int]:
    # Where a signal is probably defined: a "signals" module, else the
    # shallowest module (re-exports usually live deeper, e.g. in views).
    return (0 if module.rpartition(".")[2] == "signals" else 1, module.count("."))


class SignalScan:
    """The signals bound in loaded modules, rescanned when modules are added.

    Holds only weak references to the signals.
    """

    def __init__(self) -> None:
        self._modules = -1
        self._found: list[tuple[weakref.ref[Signal], str, str]] = []

    def clear(self) -> None:
        self._modules = -1

    def bindings(self) -> list[tuple[Signal, str, str]]:
        """``(signal, module, name)`` for every signal, at its likely defining module."""
        if len(sys.modules) != self._modules:
            self._modules = len(sys.modules)
            self._found = [(weakref.ref(s), m, n) for s, m, n in self._scan()]
        alive = []
        for ref, module, name in self._found:
            signal = ref()
            if signal is not None:
                alive.append((signal, module, name))
        return alive

    def _scan(self) -> list[tuple[Signal, str, str]]:
        best: dict[int, tuple[tuple[int, int], Signal, str, str]] = {}
        types = signal_types()
        for module, namespace in _namespaces():
            hits = _matching(namespace, types)
            for name, value in hits:
                rank = _rank(module)
                current = best.get(id(value))
                if current is None or rank < current[0]:
                    best[id(value)] = (rank, value, module, name)
        return [(signal, module, name) for _, signal, module, name in best.values()]


def name_in_module(obj: Any, module: str) -> str | None:
    """The first name ``obj`` is bound to in ``module``, if loaded."""
    loaded = sys.modules.get(module)
    if loaded is None or not issubclass(type(loaded), ModuleType):
        return None
    for name, value in list(_namespace(loaded).items()):
        if value is obj:
            return str(name)
    return None


def find_by_id(ids: set[Any]) -> dict[int, Any]:
    """Module-level objects (and attribute names) whose ``id()`` is in ``ids``."""
    found: dict[int, Any] = {}
    if not ids:
        return found
    for _, namespace in _namespaces():
        for name, value in list(namespace.items()):
            if id(value) in ids:
                found[id(value)] = value
            if id(name) in ids:
                found[id(name)] = name
    return found
