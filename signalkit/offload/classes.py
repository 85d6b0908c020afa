"""Classes named in an offload payload by their module and qualified name.

Both sides read the path statically (no module ``__getattr__`` hook, no
descriptor runs), and only classes at every step: the payload names what is
read, and it must not reach any other attribute (``settings.SECRET_KEY``).
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


def qualified(module: str, qualname: str, what: str = "a class") -> type:
    """The class ``qualname`` of ``module`` (an enum nested in a class, as
    TextChoices in a model, which ``import_string`` cannot find)."""
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
    module, end, failure = import_longest(path)
    if module is None:
        why = failure or f"no module named {path.partition('.')[0]!r}"
        raise ImportError(f"Cannot find the class {path!r}: {why}.")
    parts = path.split(".")
    return qualified(".".join(parts[:end]), ".".join(parts[end:]))
