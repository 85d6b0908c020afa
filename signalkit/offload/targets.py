"""How a worker finds an offloaded receiver again.

A task addresses its receiver by key, and the signal (a function may be offloaded
for ``post_save`` and ``post_delete``) by its dotted path, which does not depend
on the order a worker connects the receiver in, and by its position among the
receiver's signals, for a signal that has no path (bound to no module attribute)
or whose path's module the worker has not imported. The worker process imports
the same modules (autodiscovery), so connecting fills this table there too.
"""

from __future__ import annotations

import sys
import weakref
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

from signalkit import keys
from signalkit.offload.identity import same_receiver

if TYPE_CHECKING:
    from signalkit.receivers import DeferredReceiver


class Target:
    """One offloaded receiver: its wrapper and the signals it is offloaded for."""

    def __init__(self, wrapper: DeferredReceiver) -> None:
        # Weakly: a receiver disconnected (and dropped by the signal) leaves
        # nothing alive here.
        self._wrapper = weakref.ref(wrapper)
        self.signals: list[weakref.ref[Signal]] = []
        # Position -> the signal's dotted path, or None (it has none).
        self.paths: dict[int, str | None] = {}

    @property
    def wrapper(self) -> DeferredReceiver | None:
        return self._wrapper()

    @wrapper.setter
    def wrapper(self, wrapper: DeferredReceiver) -> None:
        self._wrapper = weakref.ref(wrapper)

    @property
    def func(self) -> Any:
        """The offloaded function, or None once it is gone."""
        wrapper = self._wrapper()
        return None if wrapper is None else wrapper.__wrapped__

    def path(self, position: int) -> str | None:
        """The dotted path of the signal at ``position`` (looked up once: it scans
        the loaded modules)."""
        if position not in self.paths:
            signal = self.signals[position]()
            self.paths[position] = None if signal is None else _path_of(signal)
        return self.paths[position]

    def find(self, path: str) -> Signal | None:
        """The signal of this receiver that ``path`` names in this process (its
        module is imported: it is never imported on a task's word)."""
        module, _, name = path.rpartition(".")
        bound = getattr(sys.modules.get(module), name, None)
        for ref in self.signals:
            signal = ref()
            if signal is not None and signal is bound:
                return signal
        return None

    def index(self, signal: Signal) -> int:
        for position, ref in enumerate(self.signals):
            if ref() is signal:
                return position
        self.signals.append(weakref.ref(signal))
        return len(self.signals) - 1


_targets: dict[str, Target] = {}


def register(signal: Signal, wrapper: DeferredReceiver) -> None:
    """Record ``wrapper`` as the offloaded receiver of its key for ``signal``."""
    key = wrapper.__signalkit_key__
    target = _targets.get(key)
    if target is None or not same_receiver(target.func, wrapper.__wrapped__):
        _refuse_taken(key, target, wrapper)
        target = _targets[key] = Target(wrapper)
    target.wrapper = wrapper
    target.index(signal)


def rekey() -> None:
    """File every offloaded receiver under its key as it is now.

    A ``name=`` given to a function after it was offloaded (an ``@receiver``
    stacked above the one with ``offload=True``) renames its tasks' receiver; a
    worker, which connects it the same way, finds it under the new name only.
    """
    for key, target in list(_targets.items()):
        wrapper = target.wrapper
        if wrapper is None or wrapper.__signalkit_key__ == key or not _connected(target):
            continue  # (one disconnected keeps its tasks' key, and leaves the new one free)
        new_key = wrapper.__signalkit_key__
        there = _targets.get(new_key)
        if there is not None and same_receiver(there.func, wrapper.__wrapped__):
            # (Its signals after those already there: a worker renames it alike.)
            for ref in target.signals:
                signal = ref()
                if signal is not None:
                    there.index(signal)
        else:
            _refuse_taken(new_key, there, wrapper)
            _targets[new_key] = target
        del _targets[key]


def _refuse_taken(key: str, target: Target | None, wrapper: DeferredReceiver) -> None:
    """Raise if another offloaded receiver, still connected, holds ``key``."""
    if target is not None and target.func is not None and _connected(target):
        raise ImproperlyConfigured(
            f"Two different offloaded receivers have the key {key!r}: "
            f"{_where(target.func)} and {_where(wrapper.__wrapped__)}. "
            f"A worker finds a receiver by its key: give one of them another name= "
            f"(bound methods of two objects, partials with other arguments and "
            f"functions made by one factory share a key; a bound method takes no "
            f"name=: offload a function that finds its object)."
        )


def _connected(target: Target) -> bool:
    """Whether the wrapper of ``target`` is still connected to one of its signals
    (a disconnected receiver leaves its key free)."""
    from signalkit.entries import read_entries

    wrapper = target.wrapper
    for ref in target.signals:
        signal = ref()
        if signal is not None and any(entry.receiver is wrapper for entry in read_entries(signal)):
            return True
    return False


def _where(func: Any) -> str:
    place = keys.location(func)
    return f"{place[0]}:{place[1]}" if place else repr(func)


def _path_of(signal: Signal) -> str | None:
    """The dotted path the registry names ``signal`` by, if it is the module
    attribute that holds ``signal`` (a worker looks it up so)."""
    from signalkit.registry import registry

    path = registry.info(signal).path
    module, _, name = path.rpartition(".")
    return path if getattr(sys.modules.get(module), name, None) is signal else None


def signal_ref(key: str, signal: Signal) -> tuple[int, str | None]:
    """How a task names ``signal`` of receiver ``key``: its position among the
    receiver's signals, and its dotted path (``None``: it has none)."""
    target = _targets[key]
    position = target.index(signal)
    return position, target.path(position)


def resolve(key: str, position: int, path: str | None = None) -> tuple[Any, Signal]:
    """The function and signal of a task: the signal ``path`` names if this
    process has imported its module, else the one at ``position``;
    :class:`LookupError` naming the key when this process has no such offloaded
    receiver, or when it is not connected to the signal ``path`` names."""
    target = _targets.get(key)
    func = target.func if target is not None else None
    if target is None or func is None:
        raise LookupError(
            f"No offloaded receiver {key!r} in this process. The worker must import the "
            f"module that connects it with offload=True (keep SIGNALKIT['AUTODISCOVER'] on, "
            f"or import it in an AppConfig.ready()); a receiver renamed or removed since the "
            f"task was queued is not found by its old key: switch that key off in the "
            f"worker's SIGNALKIT['RECEIVERS'] to skip its queued tasks."
        )
    if path is not None:
        found = target.find(path)
        if found is not None:
            return func, found
        module, _, name = path.rpartition(".")
        if isinstance(getattr(sys.modules.get(module), name, None), Signal):
            # The path names a signal of this process that the receiver is not
            # connected to (a task queued before a deploy that changed its
            # signals): a position would pick another signal. (A path that names
            # nothing, a signal renamed meanwhile, falls back to the position.)
            raise LookupError(
                f"Offloaded receiver {key!r} is not connected to {path} in this process: "
                f"it was sent for that signal, and is not run for another one."
            )
    if not 0 <= position < len(target.signals):
        raise LookupError(
            f"Offloaded receiver {key!r} is connected to {len(target.signals)} signal(s) in "
            f"this process, not to {path or f'the one at position {position}'}."
        )
    found = target.signals[position]()
    if found is None:
        raise LookupError(f"The signal of offloaded receiver {key!r} no longer exists.")
    return func, found


def offloaded_keys() -> list[str]:
    """The keys of every offloaded receiver connected in this process."""
    return [key for key, target in _targets.items() if target.func is not None]
