"""Filtering the receivers that a ``Signal._live_receivers`` resolved.

The gate reads ``Signal.receivers`` itself only while it sits right on Django's
own ``_live_receivers``. Over another library's wrapper (sentry-sdk's, which
times each receiver) it filters what that wrapper returns, and the wrapper may
hand back each receiver wrapped in a function of its own.
"""

from __future__ import annotations

from types import FunctionType, MethodType
from typing import TYPE_CHECKING, Any

from django.dispatch import dispatcher

from signalkit.entries import live
from signalkit.keys import receiver_key

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.dispatch.dispatcher import Signal

__all__ = ["filter_resolved", "is_djangos"]

# How many functools.wraps layers to look through for the connected receiver.
_MAX_LAYERS = 8


def is_djangos(live_receivers: Any) -> bool:
    """Whether ``live_receivers`` is Django's own ``Signal._live_receivers``."""
    # functools.wraps copies a wrapper's name and module, never its code or globals.
    code = getattr(live_receivers, "__code__", None)
    return (
        code is not None
        and code.co_name == "_live_receivers"
        and getattr(live_receivers, "__globals__", None) is vars(dispatcher)
    )


def filter_resolved(
    signal: Signal,
    resolved: tuple[list[Any], list[Any]],
    skip: Callable[[str], bool],
) -> tuple[list[Any], list[Any]]:
    """The sync and async receivers of ``resolved`` whose key ``skip`` refuses
    left out; a receiver wrapped with :func:`functools.wraps` has the key of the
    receiver that was connected."""
    connected: dict[Any, Any] | None = None

    def key_of(receiver: Any) -> str:
        nonlocal connected
        if type(receiver) is not FunctionType or "__wrapped__" not in receiver.__dict__:
            return receiver_key(receiver)
        if connected is None:
            connected = _connected(signal)
        layer: Any = receiver
        for _ in range(_MAX_LAYERS):
            target = connected.get(_identity(layer))
            if target is not None:
                return receiver_key(target)
            layer = layer.__dict__.get("__wrapped__") if type(layer) is FunctionType else None
            if layer is None:
                break
        return receiver_key(receiver)

    def keep(receivers: list[Any]) -> list[Any]:
        return [receiver for receiver in receivers if not skip(key_of(receiver))]

    sync_receivers, async_receivers = resolved
    return keep(sync_receivers), keep(async_receivers)


def _identity(receiver: Any) -> Any:
    # WeakMethod hands out a new bound method on each call.
    if type(receiver) is MethodType:
        return id(receiver.__func__), id(receiver.__self__)
    return id(receiver)


def _connected(signal: Signal) -> dict[Any, Any]:
    targets = {}
    for _, target in live(signal):
        targets[_identity(target)] = target
    return targets
