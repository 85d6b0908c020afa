"""A context's mutes, as a stack of immutable frames in a :class:`~contextvars.ContextVar`.

Each frame is ``(entry, ids of the signals this frame and those under it silence
entirely, frame under it)``: sending a silenced signal (no sender, no receivers
selected) skips the receiver lookup with one set lookup. Frames are never
changed, so a context copied for a thread or a task keeps the frames it was
copied with, and leaving a block restores the frame it found.

An entry, ``[mute, ended]``, is one entry of a mute into a block; leaving the
block marks it ended. A context copied inside the block (an asyncio task, an
executor job) still holds its frame after that, and ignores it: a mute ends
with its block for every context, whatever else is muted in the process. (A
list, not an object of a class of its own: one is made each time a block is
entered, and a list costs a third of the time to make.)
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from signalkit.selectors import Mute

__all__ = ["BOTTOM", "Entry", "Frame", "entries", "push", "silences", "stacked", "without"]

#: ``[mute, ended]``.
Entry = list[Any]
Frame = tuple[Any, frozenset[int], Any]
BOTTOM: Frame = (None, frozenset(), None)
state: ContextVar[Frame] = ContextVar("signalkit_mutes", default=BOTTOM)


def entries(frame: Frame) -> list[Entry]:
    """The entries of ``frame`` and those under it, ended ones too, newest first."""
    found: list[Entry] = []
    while frame[0] is not None:
        found.append(frame[0])
        frame = frame[2]
    return found


def stacked(frame: Frame) -> tuple[Mute, ...]:
    """The mutes of ``frame`` and those under it whose blocks have not ended, oldest first."""
    return tuple(entry[0] for entry in reversed(entries(frame)) if not entry[1])


def silences(frame: Frame, signal_id: int) -> bool:
    """Whether a mute of ``frame`` (or under it) that has not ended silences the
    signal ``signal_id`` entirely: ``frame[1]`` lists every such signal, of
    ended mutes too, so a send finds out with one set lookup when it has none."""
    if signal_id not in frame[1]:
        return False
    entry = frame[0]
    while entry is not None:
        if not entry[1] and signal_id in entry[0].silenced_ids:
            return True
        frame = frame[2]
        entry = frame[0]
    return False


def push(frame: Frame, mute: Mute) -> Frame:
    """A frame holding a new entry of ``mute`` on top of ``frame``."""
    # (_push_entry() inlined: this runs each time a block is entered.)
    silenced = mute.silenced_ids
    if frame[1] and silenced:
        silenced = frame[1] | silenced
    return ([mute, False], silenced or frame[1], frame)


def _push_entry(frame: Frame, entry: Entry) -> Frame:
    silenced = entry[0].silenced_ids
    if frame[1] and silenced:
        silenced = frame[1] | silenced
    return (entry, silenced or frame[1], frame)


def without(frame: Frame, mute: Mute) -> tuple[Frame, Entry | None]:
    """``frame`` rebuilt without the newest entry of ``mute`` that has not ended,
    and that entry (``None`` when ``frame`` has none: the block was entered in
    another context). The other entries are kept as they are, ended or not."""
    found = entries(frame)
    removed = next((entry for entry in found if entry[0] is mute and not entry[1]), None)
    rebuilt = BOTTOM
    for entry in reversed(found):
        if entry is not removed:
            rebuilt = _push_entry(rebuilt, entry)
    return rebuilt, removed
