"""The saves of an audited instance in progress, from ``pre_save`` to the audit's
``post_save``: one frame each, as a receiver of a save may save the instance
again. A refresh during a save (by another of its receivers) reads the new
values, which must not become the old ones of the save: :func:`snapshot.refresh`
keeps those in the frame first.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from signalkit.audit import snapshot

if TYPE_CHECKING:
    from django.db.models import Model


def begin_save(instance: Model) -> None:
    """Mark a save starting (``pre_save``): see :func:`end_save`."""
    state = snapshot.own_state(instance)
    if state is None:  # none known: a refresh during the save must not make some
        state = instance.__dict__[snapshot.ATTRIBUTE] = snapshot.SnapshotState(
            None, owner=id(instance)
        )
    frames = state.frames
    if frames is None:
        frames = state.frames = []
    elif len(frames) >= _MAX_FRAMES:
        # Frames of saves that failed between their pre_save and post_save (a
        # retry loop leaves one a try): the oldest goes.
        del frames[0]
    frames.append([threading.get_ident(), None])


# More saves of one instance in progress at once than any receiver nests.
_MAX_FRAMES = 16


def end_save(instance: Model) -> tuple[snapshot.Snapshot | None] | None:
    """A save ending (``post_save``): its old values, as a 1-tuple, if a refresh
    during the save replaced them; else ``None`` (use :func:`snapshot.base`)."""
    # (begin_save() made the state the instance's own: no own_state() needed.)
    state: snapshot.SnapshotState | None = instance.__dict__.get(snapshot.ATTRIBUTE)
    frames = None if state is None else state.frames
    if not frames:
        return None
    # The newest frame of this thread: a save nested in this one (by a receiver)
    # has ended already. A frame of another thread, left by a save that failed
    # there, is not this save's.
    ident = threading.get_ident()
    for index in range(len(frames) - 1, -1, -1):
        if frames[index][0] == ident:
            kept: tuple[snapshot.Snapshot | None] | None = frames.pop(index)[1]
            break
    else:
        return None
    if not frames:
        state.frames = None  # type: ignore[union-attr]
    return kept


def in_progress(instance: Model) -> bool:
    """Whether a save of ``instance`` is still in progress (one nesting the save
    ending now)."""
    state: snapshot.SnapshotState | None = instance.__dict__.get(snapshot.ATTRIBUTE)
    return state is not None and bool(state.frames)


def carry(instance: Model, values: snapshot.Snapshot) -> None:
    """Record ``values``, just recorded as changed by a save, in the old values
    kept for the saves still in progress: a save nested in another (by one of its
    receivers) must not have its changes recorded again by the outer one."""
    state: snapshot.SnapshotState | None = instance.__dict__.get(snapshot.ATTRIBUTE)
    if state is not None and state.frames:
        for frame in state.frames:
            if frame[1] is not None:
                frame[1] = ({**(frame[1][0] or {}), **values},)
