"""A context's mutes, as a stack of immutable frames in a :class:`~contextvars.ContextVar`.

Each frame is ``(mute, ids of the signals this frame and those under it silence
entirely, frame under it)``: sending a silenced signal (no sender, no receivers
selected) skips the receiver lookup with one set lookup. Frames are never
changed, so a context copied for a thread or a task keeps the mutes it was
copied with, and leaving a block restores the frame it found.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from signalkit.selectors import Mute

Frame = tuple[Any, frozenset[int], Any]
BOTTOM: Frame = (None, frozenset(), None)
state: ContextVar[Frame] = ContextVar("signalkit_mutes", default=BOTTOM)


def stacked(frame: Frame) -> tuple[Mute, ...]:
    """The mutes of ``frame`` and those under it, oldest first."""
    mutes: list[Mute] = []
    while frame[0] is not None:
        mutes.append(frame[0])
        frame = frame[2]
    return tuple(reversed(mutes))


def push(frame: Frame, mute: Mute) -> Frame:
    """A frame holding ``mute`` on top of ``frame``."""
    silenced = mute.silenced_ids
    if frame[1] and silenced:
        silenced = frame[1] | silenced
    return (mute, silenced or frame[1], frame)


def without(frame: Frame, mute: Mute) -> Frame:
    """``frame`` rebuilt without the newest entry of ``mute``."""
    mutes = list(stacked(frame))
    for index in range(len(mutes) - 1, -1, -1):
        if mutes[index] is mute:
            del mutes[index]
            break
    rebuilt = BOTTOM
    for each in mutes:
        rebuilt = push(rebuilt, each)
    return rebuilt
