"""Finding objects in the namespaces of loaded modules.

Signals have no names; the name of a signal is the variable it is bound to in a
module, or the attribute of a class defined in that module that holds it
(``ShopEvents.paid``). Modules and classes are read through their ``__dict__``
only: no attribute access (which would load a lazily loaded module or run a
module ``__getattr__``) and no ``isinstance`` on the values (which would
evaluate lazy objects such as ``default_storage``); only ``type(value)`` is
tested. The garbage collector is never walked.
"""

from __future__ import annotations

import sys
import weakref
from types import ModuleType
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

# The module ``__dict__`` descriptor: reads a module's namespace without
# triggering a lazy module's loading (``vars()`` would).
_namespace: Callable[[ModuleType], dict[str, Any]] = ModuleType.__dict__["__dict__"].__get__  # type: ignore[index]
# The same for classes, bypassing a metaclass's attributes.
_class_namespace: Callable[[type], Mapping[str, Any]] = type.__dict__["__dict__"].__get__
_qualname: Callable[[type], str] = type.__dict__["__qualname__"].__get__
_module: Callable[[type], str] = type.__dict__["__module__"].__get__


def _namespaces() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, module in list(sys.modules.items()):
        if not issubclass(type(module), ModuleType):  # e.g. typing.io, a class
            continue
        try:
            namespace = _namespace(module)
        except Exception:  # an exotic module type
            continue
        yield name, namespace


def _subclasses(root: type) -> set[type]:
    found: set[type] = set()
    todo: list[type] = [root]
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.add(cls)
            todo += type.__subclasses__(cls)  # unbound: works for ``type`` itself
    return found


def signal_types() -> set[type]:
    """:class:`~django.dispatch.Signal` and all its subclasses."""
    return _subclasses(Signal)


def wanted(types: set[type]) -> set[type]:
    """``types`` and every metaclass: the types :func:`_bound` looks for."""
    return types | _subclasses(type)


def _bound(
    module: str, namespace: dict[str, Any], types: set[type], wanted: set[type]
) -> list[tuple[str, Any]]:
    """``(name, value)`` for the values of a module's ``namespace`` whose type is
    in ``types``, and ``("Class.name", value)`` for those held by the classes
    defined in the module (``wanted`` is ``types`` and every metaclass).

    A class is read where it is defined only (its ``__module__`` and
    ``__qualname__``): an imported or aliased class is read once, under the name
    it is defined with. Nested classes are not read.
    """
    # No copy of the namespace: iterating in place allocates nothing, so a scan
    # of thousands of modules triggers no garbage collection.
    try:
        found = [(n, v) for n, v in namespace.items() if type(v) in wanted]
    except RuntimeError:  # another thread changed the module meanwhile
        found = [(n, v) for n, v in list(namespace.items()) if type(v) in wanted]
    hits = []
    for name, value in found:
        if type(value) in types:
            hits.append((name, value))
            continue
        try:
            # Most classes bound in a module are imported: this test comes first.
            if _module(value) != module or _qualname(value) != name:
                continue
            inner = _class_namespace(value)
            # Most classes hold no signal: that test runs in C, without a loop.
            if not types.isdisjoint(map(type, inner.values())):
                hits += [(f"{name}.{n}", v) for n, v in inner.items() if type(v) in types]
        except Exception:  # an exotic metaclass, or a class changed meanwhile
            continue
    return hits


def _rank(module: str, name: str) -> tuple[int, int, int]:
    # Where a signal is probably defined: a "signals" module, else the
    # shallowest module (re-exports usually live deeper, e.g. in views);
    # in one module, a module-level name before a class attribute.
    return (
        0 if module.rpartition(".")[2] == "signals" else 1,
        module.count("."),
        name.count("."),
    )


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
        """``(signal, module, name)`` for every signal, at its likely defining module;
        ``name`` is ``Class.attribute`` for a signal held by a class."""
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
        best: dict[int, tuple[tuple[int, int, int], Signal, str, str]] = {}
        types = signal_types()
        classes = wanted(types)
        for module, namespace in _namespaces():
            for name, value in _bound(module, namespace, types, classes):
                rank = _rank(module, name)
                current = best.get(id(value))
                if current is None or rank < current[0]:
                    best[id(value)] = (rank, value, module, name)
        return [(signal, module, name) for _, signal, module, name in best.values()]


def name_in_module(obj: Any, module: str) -> str | None:
    """The first name ``obj`` is bound to in ``module``, if loaded, else the
    first ``Class.attribute`` of a class defined there that holds it."""
    loaded = sys.modules.get(module)
    if loaded is None or not issubclass(type(loaded), ModuleType):
        return None
    types = {type(obj)}
    names = [n for n, v in _bound(module, _namespace(loaded), types, wanted(types)) if v is obj]
    # A module-level name first.
    return min(names, key=lambda name: name.count("."), default=None)


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
