"""Which module made each connection, while autodiscovery imports modules.

Django never records where ``connect()`` was called. While autodiscovery runs,
a hook on ``Signal.connect`` notes each connection a call adds, with the module
whose import made the call: the innermost module-level frame on the stack (a
module imported meanwhile makes its own connections). A connection by model
label (``sender="app_label.Model"``) whose model is not registered yet waits in
the app registry: a hook on ``ModelSignal.connect`` notes the operation that
waits, and a connection Django makes for it later in the import is noted for
the module that asked for it, not the one whose import registered the model.

If an import fails, :mod:`signalkit.unwind` undoes what the failed modules made,
whatever the receivers are (a ``functools.partial`` of another module's
function, an object): they were made by that code, which runs again.

The hooks call through to what they found on the classes (another library's
wrapper included) and are put back when autodiscovery ends, unless something
was put on top of them since; outside autodiscovery, and in other threads, they
note nothing. A call made meanwhile costs a walk up to its module's frame and,
as Django's ``connect()`` itself, a pass over the signal's receivers.
"""

from __future__ import annotations

import functools
import sys
import threading
import weakref
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps.registry import Apps
from django.db.models.options import Options
from django.db.models.signals import ModelSignal
from django.db.models.utils import make_model_tuple
from django.dispatch import Signal

from signalkit.entries import make_id, unpack

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

__all__ = ["Made", "Recording", "Waiting", "drop_waiting", "recording"]


@dataclass(frozen=True, slots=True)
class Made:
    """A connection added to ``signal.receivers`` by a call of ``connect()``."""

    namespace: dict[str, Any] | None  # of the module whose import made it
    signal: Signal
    key: tuple[Any, Any]  # Django's lookup key
    receiver_id: Any  # Django's id of the receiver it holds


@dataclass(frozen=True, slots=True)
class Waiting:
    """A connection by model label waiting in ``registry`` for its model."""

    namespace: dict[str, Any] | None
    signal: Signal
    receiver: Any  # (the waiting operation holds it until it runs)
    registry: Apps
    model: tuple[str, str]
    operation: Any  # what Django keeps in the registry's pending operations


@dataclass
class Recording:
    """What the modules imported so far made, in order."""

    made: list[Made] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)

    def maker(self, signal: Signal, receiver: Any) -> dict[str, Any] | None:
        """The namespace of the module whose code is connecting ``receiver``."""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            code = frame.f_code
            if code is _MAKING_WAITING:
                return self._owner(signal, receiver)
            if code.co_name == "<module>" and frame.f_globals is frame.f_locals:
                return frame.f_globals
            frame = frame.f_back
        return None

    def _owner(self, signal: Signal, receiver: Any) -> dict[str, Any] | None:
        # A waiting connection, made as its model is registered: the module that
        # asked for it made it (and it no longer waits), or code run before.
        for index, waiting in enumerate(self.waiting):
            if waiting.signal is signal and waiting.receiver is receiver:
                del self.waiting[index]
                return waiting.namespace
        return None


_recording: ContextVar[Recording | None] = ContextVar("signalkit_recording", default=None)
_MAKING_WAITING = Apps.do_pending_operations.__code__
_lock = threading.Lock()
_users = 0
# The connect() each hook calls through to: what it found on its class.
_below: dict[type, Any] = {}


@contextmanager
def recording() -> Iterator[Recording]:
    """Note the connections made in this context until the block ends (those
    of an enclosing block, if one is active)."""
    active = _recording.get()
    if active is not None:
        yield active
        return
    _place()
    made = Recording()
    token = _recording.set(made)
    try:
        yield made
    finally:
        _recording.reset(token)
        _lift()


def _connect(
    self: Signal, receiver: Any, sender: Any = None, weak: bool = True, dispatch_uid: Any = None
) -> None:
    below = _below[Signal]
    active = _recording.get()
    if active is None or type(getattr(self, "receivers", None)) is not list:
        below(self, receiver, sender=sender, weak=weak, dispatch_uid=dispatch_uid)
        return
    before = list(self.receivers)  # (alive: no new entry can take the id of one)
    below(self, receiver, sender=sender, weak=weak, dispatch_uid=dispatch_uid)
    held = {id(entry) for entry in before}
    added = []
    for entry in reversed(self.receivers):  # (Django appends)
        if id(entry) in held:
            break
        added.append(entry)
    if not added:
        return  # (its lookup key was taken: Django ignored it)
    namespace = active.maker(self, receiver)
    for entry in added:
        shape = unpack(entry)
        if shape is None:
            continue
        ref = shape[1]
        held_receiver = ref() if isinstance(ref, weakref.ref) else ref
        if held_receiver is not None:
            active.made.append(Made(namespace, self, shape[0], make_id(held_receiver)))


def _model_connect(
    self: ModelSignal,
    receiver: Any,
    sender: Any = None,
    weak: bool = True,
    dispatch_uid: Any = None,
    apps: Apps | None = None,
) -> None:
    below = _below[ModelSignal]
    active = _recording.get()
    model = None
    if active is not None and isinstance(sender, str):
        with suppress(ValueError):  # (Django's connect() says what is wrong with it)
            model = make_model_tuple(sender)
    if active is None or model is None:
        below(self, receiver, sender=sender, weak=weak, dispatch_uid=dispatch_uid, apps=apps)
        return
    registry = apps or Options.default_apps  # (as Django resolves the label)
    before = list(registry._pending_operations.get(model, ()))
    below(self, receiver, sender=sender, weak=weak, dispatch_uid=dispatch_uid, apps=apps)
    added = [
        operation
        for operation in registry._pending_operations.get(model, ())
        if not any(operation is old for old in before)
    ]
    if added:
        namespace = active.maker(self, receiver)
        active.waiting += [
            Waiting(namespace, self, receiver, registry, model, operation) for operation in added
        ]


def drop_waiting(waiting: Waiting) -> int:
    """Take ``waiting``'s operation out of its registry if it still waits
    there; 1 if it did, else 0 (its model was registered: it ran)."""
    pending = waiting.registry._pending_operations
    queue = pending.get(waiting.model, [])
    for index, operation in enumerate(queue):
        if operation is waiting.operation:
            del queue[index]
            if not queue:
                # As Django leaves it once nothing waits for the model (its
                # check of lazy references reports every model listed).
                del pending[waiting.model]
            return 1
    return 0


# Named as the methods they stand for: code that reads the connections waiting
# for a model knows them by their module and name (Django's check of lazy
# references, listsignals' pending senders).
functools.update_wrapper(_connect, Signal.connect)
functools.update_wrapper(_model_connect, ModelSignal.connect)
_HOOKS: dict[type[Signal], Any] = {Signal: _connect, ModelSignal: _model_connect}
# Classes whose hook was left under a wrapper put on top of it meanwhile: it is
# still called through that wrapper, and placed again it would call itself.
_buried: set[type[Signal]] = set()


def _place() -> None:
    global _users
    with _lock:
        _users += 1
        if _users > 1:
            return
        for cls, hook in _HOOKS.items():
            found = cls.__dict__["connect"]
            if found is hook or (cls in _buried and found is not _below[cls]):
                continue
            _buried.discard(cls)
            _below[cls] = found
            cls.connect = hook  # type: ignore[method-assign]


def _lift() -> None:
    global _users
    with _lock:
        _users -= 1
        if _users:
            return
        for cls, hook in _HOOKS.items():
            if cls.__dict__["connect"] is hook:
                cls.connect = _below[cls]  # type: ignore[method-assign]
            else:
                _buried.add(cls)
