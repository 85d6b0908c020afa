"""Dotted paths that name a signal: importing the module that holds one, and
following the rest of the path through loaded modules and classes."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from types import ModuleType
from typing import Any

from django.dispatch import Signal

__all__ = ["follow", "import_longest", "import_owner", "loaded_longest"]


def import_longest(path: str) -> tuple[ModuleType | None, int, str]:
    """Import the longest prefix of ``path`` that is a module, unless one is
    loaded: that module (``None`` if no prefix is one), how many parts of the
    path it spans, and why importing it failed, as a clause (``""``: it did not).
    The rest of the path may go on through classes (``app.models.Order.Status``)."""
    parts = path.split(".")
    for end in range(len(parts) - 1, 0, -1):
        name = ".".join(parts[:end])
        module = sys.modules.get(name)
        if module is not None:
            return module, end, ""
        try:
            return importlib.import_module(name), end, ""
        except ModuleNotFoundError as exc:
            if exc.name is not None and (name == exc.name or name.startswith(f"{exc.name}.")):
                continue  # no such module: maybe the path names a class attribute
            return None, end, f"importing {name!r} failed: {exc}"
        except Exception as exc:
            return None, end, f"importing {name!r} failed: {type(exc).__name__}: {exc}"
    return None, 0, ""


def loaded_longest(path: str) -> tuple[Any, int, str]:
    """The longest prefix of ``path`` that is a loaded module, importing nothing:
    that module (``None`` if no prefix is one), how many parts of the path it
    spans, and the name of a module that the path goes on into which exists but
    is not imported yet (``""``: none; the rest of the path is attributes).

    A submodule is found as the import system would find it, without running
    it: importing a module to look into it would run its top-level code (connect
    its receivers, need optional dependencies, or an app that is not installed)."""
    parts = path.split(".")
    module: Any = None
    end = 0
    for index in range(1, len(parts)):
        name = ".".join(parts[:index])
        loaded = sys.modules.get(name)
        if loaded is not None:
            module, end = loaded, index
            continue
        if module is not None:
            space = vars(module) if isinstance(module, ModuleType) else {}
            if parts[index - 1] in space or "__path__" not in space:
                break  # an attribute of the module, which is no package
        try:
            spec = importlib.util.find_spec(name)  # (its package is loaded: nothing runs)
        except Exception:
            return module, end, name  # cannot tell: as if a module not imported yet
        if spec is None:
            break
        return module, end, name
    return module, end, ""


def import_owner(path: str) -> str:
    """Import the longest prefix of ``path`` that is a module, unless it is
    loaded: why importing it failed, as a sentence to add to an error, or ""."""
    failure = import_longest(path)[2]
    return f" I{failure[1:]}" if failure else ""


def follow(path: str) -> tuple[Signal | None, str]:
    """The signal ``path`` names in a loaded module (under any other name than
    the one it was registered with), or ``None`` and why, as a sentence to add
    to an error. Nothing is imported, and only plain attributes are read: no
    lazy object is evaluated, no ``__getattr__`` hook runs."""
    parts = path.split(".")
    for end in range(len(parts) - 1, 0, -1):
        owner = ".".join(parts[:end])
        found: Any = sys.modules.get(owner)
        if found is None:
            continue
        for part in parts[end:]:
            try:
                found = inspect.getattr_static(found, part)
            except AttributeError:
                return None, f" {owner!r} has no attribute or submodule {part!r}."
            owner = f"{owner}.{part}"
        if issubclass(type(found), Signal):  # (isinstance would evaluate a lazy object)
            return found, ""
        kind = "class" if issubclass(type(found), type) else type(found).__name__
        return None, f" {path!r} is a {kind}, not a signal."
    return None, f" No module named {parts[0]!r}."
