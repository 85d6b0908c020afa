"""Dotted paths that name a signal: importing the module that holds one, and
following the rest of the path through loaded modules and classes."""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Any

from django.dispatch import Signal

__all__ = ["follow", "import_owner"]


def import_owner(path: str) -> str:
    """Import the longest prefix of ``path`` that is a module, unless it is
    loaded: why importing it failed, as a sentence to add to an error, or ""."""
    parts = path.split(".")
    for end in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:end])
        if module in sys.modules:
            return ""
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (module == exc.name or module.startswith(f"{exc.name}.")):
                continue  # no such module: maybe the path names a class attribute
            return f" Importing {module!r} failed: {exc}"
        except Exception as exc:
            return f" Importing {module!r} failed: {type(exc).__name__}: {exc}"
        return ""
    return ""


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
