"""What a receiver is connected for: its sender, as a readable label.

Django keeps only ``id(sender)`` in the lookup key (6.0+ also a weak reference to
it). The sender is found back through that reference, or among the objects that
are usually senders (models with their abstract bases, app configs and labels,
and the classes and strings of loaded modules, including their attribute names,
with which identifier-like string literals are shared). An id that matches none of them is shown
as such, never hidden. Receivers connected with a string model label whose model
is not registered yet wait in the app registry; they are listed as pending.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from types import MethodType
from typing import TYPE_CHECKING, Any

from django.apps import AppConfig, apps
from django.db.models import Model
from django.dispatch import Signal

from signalkit.entries import UNKNOWN, Entry, make_id

if TYPE_CHECKING:
    from collections.abc import Iterable


def describe(sender: Any) -> str | None:
    """``"app_label.Model"`` for models (proxy and abstract ones too), ``"label
    (AppConfig)"`` for app configs, the dotted path of other classes, strings as
    they are, and ``None`` for any sender."""
    if sender is None:
        return None
    if isinstance(sender, type):
        if issubclass(sender, Model):
            return sender._meta.label
        return f"{sender.__module__}.{sender.__qualname__}"
    if isinstance(sender, str):
        return sender
    if isinstance(sender, AppConfig):
        return f"{sender.label} (AppConfig)"
    cls = type(sender)
    return f"{cls.__module__}.{cls.__qualname__} instance"


def unresolved(sender_id: Any) -> str:
    return (
        f"<unresolved sender id {sender_id:#x}>"
        if isinstance(sender_id, int)
        else (f"<unresolved sender id {sender_id!r}>")
    )


class SenderIndex:
    """Finds senders back from their ids; build one per listing."""

    def __init__(self, extra: Iterable[Any] = ()) -> None:
        self._by_id: dict[Any, Any] = {make_id(None): None}
        for model in apps.get_models(include_auto_created=True, include_swapped=True):
            for cls in model.__mro__:
                if issubclass(cls, Model) and cls is not Model:
                    self._by_id[make_id(cls)] = cls
        for config in apps.get_app_configs():
            self._by_id[make_id(config)] = config
            # String senders: identifier-like literals are interned, so a
            # sender="blog" is the very object of the interned app label.
            label = sys.intern(config.label)
            self._by_id.setdefault(make_id(label), label)
        for obj in extra:
            self._by_id.setdefault(make_id(obj), obj)

    def knows(self, entry: Entry) -> bool:
        return entry.sender is not UNKNOWN or entry.sender_id in self._by_id

    def label(self, entry: Entry) -> str | None:
        """The readable sender of ``entry``."""
        if entry.sender is not UNKNOWN:
            return describe(entry.sender)
        if entry.sender_id in self._by_id:
            return describe(self._by_id[entry.sender_id])
        return unresolved(entry.sender_id)


@dataclass(frozen=True)
class PendingConnection:
    """A ``connect(receiver, sender="app.Model")`` waiting for its model."""

    signal: Signal
    receiver: Any
    weak: bool
    dispatch_uid: Any
    sender: str  # "app_label.model_name (pending)"


def pending_connections(model: tuple[str, str] | None = None) -> list[PendingConnection]:
    """Receivers of model signals connected with a label of a model not yet
    registered (of the model ``(app_label, model_name)`` only, if given), in the
    order Django will connect them."""
    found = []
    waiting = list(apps._pending_operations.items())
    if model is not None:
        waiting = [(model, apps._pending_operations.get(model, []))]
    for (app_label, model_name), operations in waiting:
        for operation in list(operations):
            call = getattr(operation, "func", None)
            if not isinstance(call, functools.partial) or not call.args:
                continue
            method = call.func
            if not (isinstance(method, MethodType) and method.__name__ == "connect"):
                continue
            signal = method.__self__
            if not isinstance(signal, Signal):
                continue
            found.append(
                PendingConnection(
                    signal=signal,
                    receiver=call.args[0],
                    weak=bool(call.keywords.get("weak", True)),
                    dispatch_uid=call.keywords.get("dispatch_uid"),
                    sender=f"{app_label}.{model_name} (pending)",
                )
            )
    return found
