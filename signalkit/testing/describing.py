"""How a capture's failure messages name signals, senders and what was expected."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from signalkit import gate

if TYPE_CHECKING:
    from django.dispatch import Signal

__all__ = ["describe_sender", "expectation", "shown", "signal_name"]


def _label(sender: Any) -> str | None:
    return gate.sender_label(sender) if isinstance(sender, type) else None


def describe_sender(sender: Any) -> str:
    return _label(sender) or shown(sender)


def shown(value: Any) -> str:
    """``repr(value)``, or what it is when that fails: a QuerySet's runs a query,
    which a test without database access (or in a broken transaction) refuses,
    and a failure message must still say what was sent."""
    try:
        return repr(value)
    except Exception as exc:
        return f"<{type(value).__qualname__} object; its repr() raised {type(exc).__name__}>"


# Modules whose signals are named by their dotted path in reports, when imported.
_SIGNAL_MODULES = (
    "django.db.models.signals",
    "django.core.signals",
    "django.db.backends.signals",
    "django.contrib.auth.signals",
    "django.test.signals",
)


def signal_name(signal: Signal) -> str:
    path = getattr(signal, "path", None)
    if isinstance(path, str):
        return path
    for module_name in _SIGNAL_MODULES:
        module = sys.modules.get(module_name)
        for name, value in vars(module or object).items():
            if value is signal:
                return f"{module_name}.{name}"
    # A plain Signal() of the project's own: named as listsignals names it
    # (or "<signal 0x...>" when no module holds it).
    from signalkit.registry import registry

    return registry.info(signal).path


def expectation(signal: Signal | str, sender: Any, kwargs: dict[str, Any]) -> str:
    parts = [] if sender is ... else [f"sender={describe_sender(sender)}"]
    parts += [f"{name}={shown(value)}" for name, value in kwargs.items()]
    return f"{signal_name(gate.resolve_signal(signal))}({', '.join(parts)})"
