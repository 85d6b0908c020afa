"""The receivers that the toggles let through, per signal and sender.

The gate filters receivers at send time; reading ``Signal.receivers`` and the
keys of its receivers on every send would cost more than the send itself. So
the receivers a toggle set lets through are kept on the signal instance (in
``_signalkit_gate``), per sender, until the receiver list, the toggles or a
receiver's key (``name=`` given after it was connected) change.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from django.dispatch.dispatcher import _make_id  # type: ignore[attr-defined]

from signalkit import keys
from signalkit.entries import make_id, unpack
from signalkit.keys import receiver_key

if TYPE_CHECKING:
    from django.dispatch.dispatcher import Signal

__all__ = ["Entry", "build_entries", "toggled_entries"]

#: ``(ref, sender_ref, is_async, key)``: a receiver reference as Django keeps it.
Entry = tuple[Any, Any, bool, str]


def toggled_entries(signal: Signal, sender: Any, disabled: frozenset[str]) -> list[Entry] | None:
    """The receivers of ``signal`` for ``sender`` that the toggles let through, with
    their keys: cached per signal and sender until the receivers, the toggles or
    the keys change."""
    receivers = signal.receivers
    # Read without the signal's lock (as Django's send() reads it): another
    # thread may connect or disconnect between any two reads of the list.
    try:
        last = receivers[-1]
    except IndexError:
        return []
    count = len(receivers)
    state = signal.__dict__.get(_STATE)
    # connect() appends a new entry, disconnect() shortens the list and the dead
    # receiver clean-up replaces it: these three tell every change apart. A
    # name given since (to a receiver of any signal) may have changed a key.
    generation = keys.generation
    if (
        state is None
        or state[0] is not receivers
        or state[1] != count
        or state[2] is not last
        or state[3] is not disabled
        or state[4] != generation
    ):
        state = (receivers, count, last, disabled, generation, {})
        signal.__dict__[_STATE] = state
    by_sender: dict[Any, list[Entry] | None] = state[5]
    sender_id = _NONE_ID if sender is None else _lookup_id(sender)
    try:
        return by_sender[sender_id]
    except KeyError:
        pass
    read = list(receivers)
    entries = build_entries(read, sender_id, disabled)
    # Kept only if built from the list the state describes: a receiver another
    # thread connected since the check would stay in it after its disconnect()
    # (which gives the list back its length and last entry).
    if read and len(read) == count and read[-1] is last:
        if len(by_sender) >= _MAX_SENDERS:
            by_sender.clear()
        by_sender[sender_id] = entries
    return entries


def build_entries(
    receivers: list[Any], sender_id: Any, disabled: frozenset[str]
) -> list[Entry] | None:
    """Each receiver for ``sender_id`` that ``disabled`` lets through; ``None`` when
    an entry has a shape this version of signalkit does not know."""
    entries = []
    for entry in receivers:
        shape = unpack(entry)
        if shape is None or shape[3] is None:
            return None
        lookup_key, ref, sender_ref, is_async = shape
        if lookup_key[1] != _NONE_ID and lookup_key[1] != sender_id:
            continue
        target = ref() if isinstance(ref, weakref.ReferenceType) else ref
        if target is None:
            continue
        key = receiver_key(target)
        if key not in disabled:
            entries.append((ref, sender_ref, bool(is_async), key))
    return entries


_lookup_id = _make_id  # (Django's own: make_id() is a call more per send)
_NONE_ID = make_id(None)
_STATE = "_signalkit_gate"
_MAX_SENDERS = 1024
