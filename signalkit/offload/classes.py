"""Classes named in an offload payload by their module and qualified name.

Both sides read the path statically (no module ``__getattr__`` hook, no
descriptor runs), and only classes at every step: the payload names what is
read, and it must not reach any other attribute (``settings.SECRET_KEY``).

Nor does a payload choose what a worker imports: a module the worker has not
imported yet is imported only if it belongs to an installed app. Importing runs
a module's top-level code, and whoever can write to the queue (a broker shared
with another service) could otherwise run that of any module on the path.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Any

from signalkit.paths import import_longest

__all__ = ["class_at", "importable", "qualified"]


def importable(cls: type) -> bool:
    """Whether ``cls`` is found again by its module and qualified name, as
    :func:`qualified` reads them."""
    if "<locals>" in cls.__qualname__:
        return False
    found: Any = sys.modules.get(cls.__module__)
    for name in cls.__qualname__.split("."):
        found = inspect.getattr_static(found, name, None)
    return found is cls


def _may_import(module: str) -> bool:
    """Whether a payload may have ``module`` imported: it is already, or it is
    (in) the package of an installed app."""
    if module in sys.modules:
        return True
    from django.apps import apps

    return apps.get_containing_app_config(module) is not None


def _refused(path: str, module: str) -> ImportError:
    return ImportError(
        f"Cannot find the class {path!r}: a task does not import {module!r}, which is "
        f"neither imported in this process nor a module of an installed app (a payload "
        f"never chooses which code a worker runs). Import it when the worker starts: "
        f"in the receiver's module or an AppConfig.ready()."
    )


def qualified(module: str, qualname: str, what: str = "a class") -> type:
    """The class ``qualname`` of ``module`` (an enum nested in a class, as
    TextChoices in a model, which ``import_string`` cannot find)."""
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise TypeError(f"{[module, qualname]!r} does not name a class by module and name.")
    if not _may_import(module):
        raise _refused(f"{module}.{qualname}", module)
    try:
        found: Any = importlib.import_module(module)
    except ImportError as error:
        # (As class_at() says it: the bare error named the module only.)
        raise ImportError(f"Cannot find the class '{module}.{qualname}': {error}.") from error
    for name in qualname.split("."):
        try:
            found = inspect.getattr_static(found, name)
        except AttributeError:
            # (The bare error said only the name: a class renamed or removed
            # since the task was queued.)
            raise AttributeError(
                f"Cannot find the class '{module}.{qualname}': {name!r} is not in "
                f"{found.__name__!r}."
            ) from None
        if not isinstance(found, type):
            raise TypeError(f"{module}.{qualname} is not {what}.")
    return found  # type: ignore[no-any-return]


def class_at(path: Any) -> type:
    """The class of a ``$class`` tag: ``[module, qualname]``, or one dotted string
    (the form of payloads queued by earlier versions), whose module is its
    longest prefix that is a module, so that a class nested in another
    (``app.models.Order.Status``) is found."""
    if not isinstance(path, str):
        return qualified(*path)
    parts = path.split(".")
    # The prefixes a payload may have imported: a longer one than those is no
    # module of an installed app, and is tried only if it is a class.
    end = len(parts) - 1
    while end > 0 and not _may_import(".".join(parts[:end])):
        end -= 1
    if end < len(parts) - 1:
        owner = sys.modules.get(".".join(parts[:end]))
        if end == 0 or not isinstance(inspect.getattr_static(owner, parts[end], None), type):
            raise _refused(path, ".".join(parts[: end + 1]))
    module, end, failure = import_longest(".".join(parts[: end + 1]))
    if module is None:
        why = failure or f"no module named {path.partition('.')[0]!r}"
        raise ImportError(f"Cannot find the class {path!r}: {why}.")
    return qualified(".".join(parts[:end]), ".".join(parts[end:]))
