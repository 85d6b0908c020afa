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

Frames are found by thread and by the instance's ``id()`` (a copy of the
instance has its own). Each thread changes only its own frame lists, without a
lock: a save pays for no more than it needs. Other threads read them -- an
instance shared by threads may be refreshed by one while another saves it --
and the frame fields they set (what a refresh kept, what a nested save carried,
a delete's key) are handed over under a lock.
"""

from __future__ import annotations

import functools
import sys
import threading
from typing import TYPE_CHECKING, Any

from django.db.models import Model

from signalkit.audit import unended
from signalkit.audit.frames import Ending, Frame, Snapshot
from signalkit.audit.wrapping import Wrapping, fitting

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import FrameType


_SAVE_BASE = Model.save_base.__code__
_ident = threading.get_ident
# Guards the frame fields other threads set: ``kept``, ``carried``, ``deleted``.
_lock = threading.Lock()
# (thread, id(instance)) -> that thread's frames of the instance, oldest first.
# Only the thread itself adds, removes or replaces its entries.
_active: dict[tuple[int, int], list[Frame]] = {}
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
    def save_base(
        self: Model,
        raw: bool = False,
        force_insert: Any = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> Any:
        thread = _ident()
        key = (thread, id(self))
        frame = Frame(thread)
        frames = _active.get(key)
        if frames is None:
            frames = _active[key] = [frame]
        else:
            frames.append(frame)
        try:
            return method(self, raw, force_insert, force_update, using, update_fields)
        except BaseException as error:
            if frame.expecting and frame.updated is not None:
                unended.record(self, frame, error)
            raise
        finally:
            if len(frames) == 1 and frames[0] is frame:  # (_pop()'s common case)
                frames.pop()
                del _active[key]
            else:
                _pop(key, frames, frame)

    def any_save_base(self: Model, *args: Any, **kwargs: Any) -> Any:
        # (The same, for a save_base() overridden with other parameters.)
        thread = _ident()
        key = (thread, id(self))
        frame = Frame(thread)
        frames = _active.setdefault(key, [])
        frames.append(frame)
        try:
            return method(self, *args, **kwargs)
        except BaseException as error:
            if frame.expecting and frame.updated is not None:
                unended.record(self, frame, error)
            raise
        finally:
            _pop(key, frames, frame)

    return functools.wraps(method)(fitting(method, save_base, any_save_base))


def _pop(key: tuple[int, int], frames: list[Frame], frame: Frame) -> None:
    if frames[-1] is frame:
        frames.pop()
    else:
        # With frames pushed since: unwrapped saves nested in this one that
        # failed before their post_save.
        del frames[frames.index(frame) :]
    if not frames:
        del _active[key]


def _wrap_write(method: Callable[..., Any]) -> Callable[..., Any]:
    def _save_table(
        self: Model,
        raw: bool = False,
        cls: type[Model] | None = None,
        force_insert: Any = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> Any:
        frame = _written(self) if _active else None
        updated = method(self, raw, cls, force_insert, force_update, using, update_fields)
        if frame is not None:
            frame.updated = bool(updated)
        return updated

    def any_save_table(self: Model, *args: Any, **kwargs: Any) -> Any:
        frame = _written(self) if _active else None
        updated = method(self, *args, **kwargs)
        if frame is not None:
            frame.updated = bool(updated)
        return updated

    return functools.wraps(method)(fitting(method, _save_table, any_save_table))


def _written(instance: Model) -> Frame | None:
    frames = _active.get((_ident(), id(instance)))
    if not frames:
        return None
    frame = frames[-1]
    frame.written = True
    frame.updated = None  # (a parent's table may have been written before)
    return frame


def _all(instance: Model) -> list[Frame]:
    """The frames of ``instance`` in every thread."""
    key = id(instance)
    # Other threads change their entries meanwhile. On Python 3.11 a copy by C
    # code that allocates as it goes (list(d.items()), tuple(a_list)) can start
    # a garbage collection that runs Python code (a finalizer) and lets them
    # run in its middle: "dictionary changed size during iteration". dict.copy()
    # starts none while it copies; a Python loop over a list checks its length
    # at each step (a thread changes only the end of its own).
    return [
        frame for (_, owner), frames in _active.copy().items() if owner == key for frame in frames
    ]


def save_call() -> FrameType | None:
    """The Python frame of the innermost call of Django's ``Model.save_base``."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code is not _SAVE_BASE:
        frame = frame.f_back
    return frame


def check(
    instance: Model, raw: bool, update_fields: frozenset[str] | None, created: bool = False
) -> None:
    """The audit's ``pre_save`` receiver ran for the save of ``instance`` in progress
    (with the arguments its ``post_save`` gets too); ``created``: a create, which
    has no old values to keep."""
    frames = _active.get((_ident(), id(instance)))
    if not frames:
        return  # a save outside the wrapper: its refreshes count as outside a save
    frame = frames[-1]
    if not created:
        if frame.checked:
            # This save's frame is checked already: this is another save, nested
            # in it, that bypassed the wrapper.
            frame = Frame(frame.thread, save_call())
            frames.append(frame)
        frame.checked = True
    frame.expecting, frame.raw, frame.update_fields, frame.updated = True, raw, update_fields, None


_NOTHING = Ending(None, None, -1)


def end(instance: Model) -> Ending:
    """The audit's ``post_save`` receiver runs for the save of ``instance``."""
    if not _active:
        return _NOTHING  # no save of an audited instance in progress (a raw save)
    frames = _active.get((_ident(), id(instance)))
    if not frames:
        return Ending(None, None, -1, nested=_nested(instance, frames))
    frame = frames[-1]
    while frame.call is not None and frame.call is not save_call():
        # An unwrapped save that failed before its post_save: not this one
        # (never the bottom frame, the wrapper's).
        frames.pop()
        frame = frames[-1]
    frame.expecting = False
    if not frame.checked:  # its pre_save was muted
        return Ending(None, None, frame.number, frame.deleted, _nested(instance, frames))
    # A refresh in another thread takes a frame's old values only while it is
    # checked (see keep()): after this, under the lock, none can arrive.
    frame.checked = False
    with _lock:
        kept, carried = frame.kept, frame.carried
        frame.kept = frame.carried = None
    if frame.call is not None:
        frames.pop()
        frame.call = None
    nested = _nested(instance, frames)
    if not carried:
        return Ending(kept, None, frame.number, frame.deleted, nested)
    written: Snapshot = {}
    # The nested save that started first found what this one wrote.
    for _, values in sorted(carried, key=lambda entry: entry[0]):
        for attname, value in values.items():
            written.setdefault(attname, value)
    return Ending(kept, written, frame.number, frame.deleted, nested)


def keep(instance: Model, current: Snapshot | None) -> bool:
    """A refresh of ``instance`` is about to replace the snapshot ``current``:
    keep it as the old values of the saves in progress that need them. Whether a
    save is in progress (what the refresh read is valid only if it commits)."""
    if not _active:
        return False
    with _lock:
        frames = [frame for frame in _all(instance) if frame.checked and frame.written]
        for frame in frames:
            if frame.kept is None:
                frame.kept = (current,)
    return bool(frames)


#: The key of a deleted instance, on it: Django sets its primary key to None.
DELETED = "_signalkit_deleted_pk"


def deleted(instance: Model, pk: Any) -> None:
    """``instance`` was just deleted (``post_delete``): the saves of it in
    progress record their events under ``pk``, which Django sets to None next,
    and so does :func:`~signalkit.audit.history` find its events."""
    instance.__dict__[DELETED] = pk
    if _active:
        with _lock:
            for frame in _all(instance):
                frame.deleted = pk


def nested(instance: Model) -> bool:
    """Whether a save of ``instance`` is in progress past its ``pre_save``, in any
    thread (after :func:`end`: another than the one that ended, maybe one this
    save is nested in)."""
    return _nested(instance, _active.get((_ident(), id(instance))))


def _nested(instance: Model, own: list[Frame] | None) -> bool:
    # ``own``: this thread's frames of the instance, looked at first.
    if own:
        for frame in own:
            if frame.checked:
                return True
    if len(_active) > (1 if own else 0):
        return any(frame.checked for frame in _all(instance))
    return False


def carry(instance: Model, number: int, old: Snapshot, changed: Iterable[str]) -> None:
    """The save numbered ``number`` recorded changes of ``changed`` (attnames)
    from ``old``, read from the database since the saves still in progress wrote
    (a refresh during them): ``old`` holds what those wrote, their audit records
    that rather than what the instance holds by then. A save nested in another,
    by a ``post_save`` receiver that runs before the audit's, so records each
    change once, the outer save's too."""
    values = {attname: old[attname] for attname in changed if attname in old}
    if not values:
        return
    with _lock:
        for frame in _all(instance):
            if frame.checked and frame.written and frame.kept is not None and frame.number < number:
                if frame.carried is None:
                    frame.carried = []
                frame.carried.append((number, values))
