"""The saves of audited instances in progress.

``save_base`` of the audited models is wrapped while they are audited (see
:mod:`signalkit.audit.wrapping`): each call is a frame, from before its
``pre_save`` to after its ``post_save``, removed also when the save fails; and
``_save_table``, to mark the frame once the save writes. A receiver of a save
may refresh the instance after that (a ``post_save`` receiver): it reads the
values the save wrote, which must not become that save's old values -- the
frame keeps those (:func:`keep`). Such a receiver may also save the instance
again: the nested save has a frame of its own, and what it found is what the
outer save wrote, which the outer save's audit records (:func:`carry`).

Frames are found by the instance's ``id()`` (a copy of the instance has its own),
and by thread: an instance shared by threads may be refreshed by one while
another saves it.
"""

from __future__ import annotations

import functools
import itertools
import sys
import threading
from typing import TYPE_CHECKING, Any

from django.db.models import Model

from signalkit.audit.wrapping import Wrapping

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import FrameType


Snapshot = dict[str, Any]


class Frame:
    """One save in progress."""

    __slots__ = ("call", "carried", "checked", "deleted", "kept", "number", "thread", "written")

    def __init__(self, thread: int, call: FrameType | None = None) -> None:
        self.number = next(_numbers)  # saves that start later have higher numbers
        self.thread = thread
        # The primary key of the instance, if a receiver of the save deleted
        # it since (Django sets it to None).
        self.deleted: Any = None
        # A save that bypassed the wrapper (``Model.save_base(instance)``)
        # nested in a wrapped one: its signals push and pop its frame, which
        # knows the save by the Python frame of its call of Django's save_base.
        self.call = call
        # From the audit's pre_save receiver to its post_save receiver.
        self.checked = False
        # The save has started writing (after its pre_save): a refresh now reads
        # what it wrote, not the old values.
        self.written = False
        # The save's old values, kept by a refresh in between (a 1-tuple: they
        # may be None).
        self.kept: tuple[Snapshot | None] | None = None
        # What saves nested in this one found in the fields they changed: what
        # this one wrote (read after it wrote, also if their own change rolled
        # back since). (nested frame's number, values)
        self.carried: list[tuple[int, Snapshot]] | None = None


_numbers = itertools.count()
_SAVE_BASE = Model.save_base.__code__
_lock = threading.Lock()
_active: dict[int, list[Frame]] = {}  # id(instance) -> its frames, oldest first
_wrapping = Wrapping("save_base", "__signalkit_saves__")
# Django's save_base writes each table with _save_table(), after pre_save.
_writing = Wrapping("_save_table", "__signalkit_writes__")


def patch(models: Iterable[type[Model]]) -> None:
    """Wrap ``save_base`` and ``_save_table`` of ``models`` (once per class
    hierarchy path)."""
    _wrapping.patch(models, _wrap)
    _writing.patch(models, _wrap_write)


def unpatch() -> None:
    _writing.unpatch()
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
                if frames[-1] is frame:
                    frames.pop()
                else:
                    # With the frames of this thread pushed since: unwrapped
                    # saves nested in this one that failed before their
                    # post_save.
                    index = frames.index(frame)
                    frames[index:] = [
                        later for later in frames[index + 1 :] if later.thread != frame.thread
                    ]
                if not frames:
                    del _active[key]

    return save_base


def _wrap_write(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def _save_table(self: Model, *args: Any, **kwargs: Any) -> Any:
        if _active:
            with _lock:  # (other threads may add or remove frames of the instance)
                frame = _own(self)
                if frame is not None:
                    frame.written = True
        return method(self, *args, **kwargs)

    return _save_table


def _own(instance: Model) -> Frame | None:
    """The newest frame of this thread for ``instance`` (the caller holds the lock)."""
    frames = _active.get(id(instance))
    if frames:
        ident = threading.get_ident()
        for frame in reversed(frames):
            if frame.thread == ident:
                return frame
    return None


def _save_call() -> FrameType | None:
    """The Python frame of the innermost call of Django's ``Model.save_base``."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code is not _SAVE_BASE:
        frame = frame.f_back
    return frame


def check(instance: Model) -> None:
    """The audit's ``pre_save`` receiver ran for the save of ``instance`` in progress."""
    with _lock:
        frame = _own(instance)
        if frame is None:
            return  # a save outside the wrapper: its refreshes count as outside a save
        if frame.checked:
            # This save's frame is checked already: this is another save, nested
            # in it, that bypassed the wrapper.
            frame = Frame(frame.thread, _save_call())
            _active[id(instance)].append(frame)
        frame.checked = True


class Ending:
    """What the audit's ``post_save`` receiver needs to know of its save."""

    __slots__ = ("deleted", "kept", "number", "written")

    def __init__(
        self,
        kept: tuple[Snapshot | None] | None,
        written: Snapshot | None,
        number: int,
        deleted: Any = None,
    ) -> None:
        # The save's old values, as a 1-tuple, if a refresh since its pre_save
        # replaced them; else None (the snapshot holds them).
        self.kept = kept
        # What the save wrote in fields that saves nested in it changed since.
        self.written = written
        self.number = number
        self.deleted = deleted  # see Frame


_NOTHING = Ending(None, None, -1)


def end(instance: Model) -> Ending:
    """The audit's ``post_save`` receiver runs for the save of ``instance``."""
    if not _active:
        return _NOTHING  # no save of an audited instance in progress (a raw save)
    with _lock:
        frame = _own(instance)
        while frame is not None and frame.call is not None and frame.call is not _save_call():
            # An unwrapped save that failed before its post_save: not this one.
            _active[id(instance)].remove(frame)
            frame = _own(instance)
        if frame is None:
            return _NOTHING
        if not frame.checked:  # its pre_save was muted
            return Ending(None, None, frame.number, frame.deleted)
        frame.checked = False
        kept, carried = frame.kept, frame.carried
        frame.kept = frame.carried = None
        if frame.call is not None:
            _active[id(instance)].remove(frame)
            frame.call = None
    if not carried:
        return Ending(kept, None, frame.number, frame.deleted)
    written: Snapshot = {}
    # The nested save that started first found what this one wrote.
    for _, values in sorted(carried, key=lambda entry: entry[0]):
        for attname, value in values.items():
            written.setdefault(attname, value)
    return Ending(kept, written, frame.number, frame.deleted)


def keep(instance: Model, current: Snapshot | None) -> bool:
    """A refresh of ``instance`` is about to replace the snapshot ``current``:
    keep it as the old values of the saves in progress that need them. Whether a
    save is in progress (what the refresh read is valid only if it commits)."""
    if not _active:
        return False
    with _lock:
        frames = [
            frame for frame in _active.get(id(instance), ()) if frame.checked and frame.written
        ]
        for frame in frames:
            if frame.kept is None:
                frame.kept = (current,)
    return bool(frames)


def deleted(instance: Model, pk: Any) -> None:
    """``instance`` was just deleted (``post_delete``): the saves of it in
    progress record their events under ``pk``, which Django sets to None next."""
    if _active:
        with _lock:
            for frame in _active.get(id(instance), ()):
                frame.deleted = pk


def nested(instance: Model) -> bool:
    """Whether another save of ``instance`` is in progress besides the one whose
    audit ran :func:`end` (maybe one this save is nested in)."""
    with _lock:
        return any(frame.checked for frame in _active.get(id(instance), ()))


def carry(instance: Model, number: int, old: Snapshot, changed: Iterable[str]) -> None:
    """The save numbered ``number`` recorded changes of ``changed`` (attnames)
    from ``old``, read from the database since the saves still in progress wrote
    (a refresh during them): ``old`` holds what those wrote, their audit records
    that rather than what the instance holds by then. A save nested in another,
    by a ``post_save`` receiver that runs before the audit's, so records each
    change once, the outer save's too."""
    with _lock:
        outer = [
            frame
            for frame in _active.get(id(instance), ())
            if frame.checked and frame.written and frame.kept is not None and frame.number < number
        ]
    values = {attname: old[attname] for attname in changed if attname in old}
    if not outer or not values:
        return
    for frame in outer:
        if frame.carried is None:
            frame.carried = []
        frame.carried.append((number, values))
