"""The saves of audited instances in progress.

``save_base`` of the audited models is wrapped while they are audited (see
:mod:`signalkit.audit.wrapping`): each call is a frame, from before its
``pre_save`` to after its ``post_save``, removed also when the save fails. A
receiver of a save may refresh the instance after the audit's ``pre_save``
receiver: it reads the values the save wrote, which must not become that save's
old values -- the frame keeps those (:func:`keep`). A ``post_save`` receiver may
also save the instance again: the nested save has a frame of its own, and what it
records is not recorded again by the outer save (:func:`carry`).

Frames are found by the instance's ``id()`` (a copy of the instance has its own),
and by thread: an instance shared by threads may be refreshed by one while
another saves it.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any

from signalkit.audit import hooks
from signalkit.audit.wrapping import Wrapping

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

Snapshot = dict[str, Any]


class Frame:
    """One save in progress."""

    __slots__ = ("carried", "checked", "kept", "thread")

    def __init__(self, thread: int) -> None:
        self.thread = thread
        # From the audit's pre_save receiver to its post_save receiver.
        self.checked = False
        # The save's old values, kept by a refresh in between (a 1-tuple: they
        # may be None).
        self.kept: tuple[Snapshot | None] | None = None
        # Changes recorded by saves nested in this one: (values, connection,
        # marker of their part of the transaction, or None: committed).
        self.carried: list[tuple[Snapshot, BaseDatabaseWrapper, hooks.Marker | None]] | None = None


_lock = threading.Lock()
_active: dict[int, list[Frame]] = {}  # id(instance) -> its frames, oldest first
_wrapping = Wrapping("save_base", "__signalkit_saves__")


def patch(models: Iterable[type[Model]]) -> None:
    """Wrap ``save_base`` of ``models`` (once per class hierarchy path)."""
    _wrapping.patch(models, _wrap)


def unpatch() -> None:
    _wrapping.unpatch()


def _wrap(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def save_base(self: Model, *args: Any, **kwargs: Any) -> Any:
        frame = Frame(threading.get_ident())
        key = id(self)
        with _lock:
            frames = _active.get(key)
            if frames is None:
                _active[key] = [frame]
            else:
                frames.append(frame)
        try:
            return method(self, *args, **kwargs)
        finally:
            with _lock:
                frames = _active[key]
                frames.remove(frame)
                if not frames:
                    del _active[key]

    return save_base


def _own(instance: Model) -> Frame | None:
    """The newest frame of this thread for ``instance`` (the caller holds the lock)."""
    frames = _active.get(id(instance))
    if frames:
        ident = threading.get_ident()
        for frame in reversed(frames):
            if frame.thread == ident:
                return frame
    return None


def check(instance: Model) -> None:
    """The audit's ``pre_save`` receiver ran for the save of ``instance`` in progress."""
    with _lock:
        frame = _own(instance)
        if frame is not None:
            frame.checked, frame.kept, frame.carried = True, None, None


def end(instance: Model) -> tuple[Snapshot | None] | None:
    """The audit's ``post_save`` receiver runs: the save's old values, as a
    1-tuple, if a refresh since its ``pre_save`` replaced them; else ``None``
    (the snapshot holds them)."""
    if not _active:
        return None  # no save of an audited instance in progress (a raw save)
    with _lock:
        frame = _own(instance)
        if frame is None or not frame.checked:
            return None
        frame.checked = False
        kept, carried = frame.kept, frame.carried
    if kept is None or not carried:
        return kept
    old = dict(kept[0] or {})
    for values, connection, marker in carried:
        # Unless the nested save's part of the transaction rolled back since.
        if marker is None or hooks.is_alive(connection, marker):
            old.update(values)
    return (old,)


def keep(instance: Model, current: Snapshot | None) -> bool:
    """A refresh of ``instance`` is about to replace the snapshot ``current``:
    keep it as the old values of the saves in progress that need them. Whether a
    save is in progress (what the refresh read is valid only if it commits)."""
    if not _active:
        return False
    with _lock:
        frames = [frame for frame in _active.get(id(instance), ()) if frame.checked]
        for frame in frames:
            if frame.kept is None:
                frame.kept = (current,)
    return bool(frames)


def nested(instance: Model) -> bool:
    """Whether another save of ``instance`` is in progress besides the one
    ending (maybe one this save is nested in)."""
    return len(_active.get(id(instance), ())) > 1


def carry(
    instance: Model,
    old: Snapshot | None,
    new: Snapshot,
    changed: Iterable[str],
    same: Callable[[Any, Any, str], bool],
    connection: BaseDatabaseWrapper,
) -> None:
    """A save recorded ``changed`` (attnames) from ``old`` to ``new``: the saves
    still in progress whose kept old values hold what this one found take its
    new values, so as not to record its changes again. A field whose kept value
    differs was written by the outer save too: the outer save records its
    change from its own old value (the two events overlap; nothing is lost)."""
    with _lock:
        outer = [
            frame
            for frame in _active.get(id(instance), ())
            if frame.checked and frame.kept is not None
        ]
    if not outer:
        return
    marker = hooks.marker(connection) if hooks.in_transaction(connection) else None
    for frame in outer:
        kept = frame.kept[0] or {}  # type: ignore[index]
        values = {
            attname: new[attname]
            for attname in changed
            if attname in new
            and old is not None
            and attname in old
            and attname in kept
            and same(kept[attname], old[attname], attname)
        }
        if values:
            if frame.carried is None:
                frame.carried = []
            frame.carried.append((values, connection, marker))
