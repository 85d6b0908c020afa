"""The one adapter that reads ``Signal.receivers``.

Django changed the shape of these entries without notice:

- 5.2: ``((receiver_id, sender_id), ref, is_async)``;
- 6.0+: ``((receiver_id, sender_id), ref, sender_ref, is_async)``;
- older: ``((receiver_id, sender_id), ref)``.

``ref`` is a :class:`weakref.ref`, a :class:`weakref.WeakMethod`, or the receiver
itself for ``weak=False``. Entries are read by length and type, never by Django
version. An entry of an unknown shape becomes an unreadable :class:`Entry` and a
:class:`UnreadableEntryWarning`, never an exception.

Reading never takes ``signal.lock`` (a receiver connecting from another thread
must not deadlock us) and never calls ``has_listeners(None)`` (a ``TypeError``
on the caching model signals): it iterates over a copy of the list.
"""

from __future__ import annotations

import warnings
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction
from django.dispatch.dispatcher import _make_id  # type: ignore[attr-defined]

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterator

    from django.dispatch import Signal


class UnreadableEntryWarning(RuntimeWarning):
    """A ``Signal.receivers`` entry has a shape signalkit does not know."""


#: ``Entry.sender`` when the entry does not carry its sender (5.2) or it died.
UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class Entry:
    """One receiver entry, whatever Django version wrote it."""

    receiver: Any  # the receiver (a fresh bound method for WeakMethod), None if dead
    sender_id: Any  # Django's id of the sender (``_make_id(None)`` for any sender)
    sender: Any  # the sender from the entry's weak reference, or UNKNOWN
    dispatch_uid: Hashable | None
    weak: bool
    dead: bool
    is_async: bool
    readable: bool = True
    raw: Any = None  # the entry itself, for unreadable ones


def read_entries(signal: Signal) -> list[Entry]:
    """Every entry of ``signal.receivers``, in connection order."""
    return [read_entry(entry) for entry in list(signal.receivers)]


def read_entry(entry: Any) -> Entry:
    """One entry; unknown shapes give an unreadable :class:`Entry` and a warning."""
    shape = unpack(entry)
    if shape is None:
        warnings.warn(
            f"signalkit cannot read the Signal.receivers entry {entry!r}; it is listed as "
            "unreadable. Please report this with your Django version.",
            UnreadableEntryWarning,
            stacklevel=2,
        )
        return Entry(
            receiver=None,
            sender_id=None,
            sender=UNKNOWN,
            dispatch_uid=None,
            weak=False,
            dead=False,
            is_async=False,
            readable=False,
            raw=entry,
        )
    (receiver_id, sender_id), ref, sender_ref, is_async = shape
    weak = isinstance(ref, weakref.ref)
    receiver = ref() if weak else ref
    if is_async is None:
        is_async = receiver is not None and iscoroutinefunction(receiver)
    sender: Any = UNKNOWN
    sender_gone = False
    if isinstance(sender_ref, weakref.ref):
        alive = sender_ref()
        if alive is not None:
            sender = alive
        else:
            # Django 6.0+ never calls a receiver whose sender was collected, and
            # drops the entry at its next clean-up.
            sender_gone = True
    return Entry(
        receiver=receiver,
        sender_id=sender_id,
        sender=sender,
        dispatch_uid=dispatch_uid(receiver_id, receiver),
        weak=weak,
        dead=receiver is None or sender_gone,
        is_async=bool(is_async),
    )


def unpack(entry: Any) -> tuple[tuple[Any, Any], Any, Any, bool | None] | None:
    """``(lookup_key, ref, sender_ref, is_async)`` of an entry, ``None`` for an unknown
    shape; ``sender_ref`` is ``None`` and ``is_async`` may be ``None`` (unknown) for
    older shapes."""
    if type(entry) is not tuple or not 2 <= len(entry) <= 4:
        return None
    key = entry[0]
    if type(key) is not tuple or len(key) != 2:
        return None
    if len(entry) == 2:
        return key, entry[1], None, None
    if len(entry) == 3:
        if not isinstance(entry[2], bool):
            return None
        return key, entry[1], None, entry[2]
    if not isinstance(entry[3], bool) or not (
        entry[2] is None or isinstance(entry[2], weakref.ref)
    ):
        return None
    return key, entry[1], entry[2], entry[3]


def dispatch_uid(receiver_id: Any, receiver: Any) -> Hashable | None:
    """The ``dispatch_uid`` Django stored in place of the receiver's id, if any.

    Any hashable uid is found: it is "not the receiver's own id". For a dead
    receiver the id cannot be compared, so an integer (or pair of integers) is
    taken to be an id and anything else a uid.
    """
    if receiver is None:
        return None if _looks_like_id(receiver_id) else receiver_id
    if receiver_id == _make_id(receiver):
        return None
    # signalkit's deferred receivers are connected under their function's id.
    wrapped = getattr(type(receiver), "__wrapped__", None) and receiver.__wrapped__
    if wrapped is not None and receiver_id == _make_id(wrapped):
        return None
    return receiver_id  # type: ignore[no-any-return]


def _looks_like_id(value: Any) -> bool:
    if type(value) is int:
        return True
    return type(value) is tuple and len(value) == 2 and all(type(v) is int for v in value)


def make_id(target: Any) -> Any:
    """The id Django stores in a lookup key for ``target`` (a receiver or sender)."""
    return _make_id(target)


def connected_under(signal: Signal, lookup_key: tuple[Any, Any]) -> Any:
    """The live receiver ``signal`` holds under Django's lookup key
    ``(receiver id or dispatch_uid, sender id)``, or None."""
    for key, receiver in live(signal):
        if key == lookup_key:
            return receiver
    return None


def live(signal: Signal) -> Iterator[tuple[tuple[Any, Any], Any]]:
    """``(lookup key, receiver)`` for each live receiver ``signal`` holds, read
    from a copy of its list (entries of a shape this version does not know are
    left out)."""
    for entry in list(signal.receivers):
        shape = unpack(entry)
        if shape is not None:
            ref = shape[1]
            receiver = ref() if isinstance(ref, weakref.ref) else ref
            if receiver is not None:
                yield shape[0], receiver


def disconnect_where(signal: Signal, select: Callable[[tuple[Any, Any], Any], bool]) -> int:
    """Disconnect every live receiver of ``signal`` for which ``select(lookup_key,
    receiver)`` is true, as ``disconnect()`` would; returns how many.

    The receivers are chosen on a copy of the list, without the lock (``select``
    runs arbitrary code); only the removal, by lookup key, takes it, and clears
    the per-sender cache, as ``disconnect()`` does.
    """
    chosen = [key for key, receiver in live(signal) if select(key, receiver)]
    if chosen:
        with signal.lock:
            signal.receivers = [
                entry
                for entry in signal.receivers
                if (shape := unpack(entry)) is None or shape[0] not in chosen
            ]
            signal.sender_receivers_cache.clear()
    return len(chosen)
