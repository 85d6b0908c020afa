"""The gate that receiver toggles and signal mutes share.

Toggles and mutes *filter* the live receivers at send time; they never edit
``Signal.receivers``. So receivers connected or disconnected while a mute is
active behave normally afterwards, ``dispatch_uid`` de-duplication keeps
working, and ``has_listeners()`` tells the truth (Django keeps its fast delete
path when every delete receiver is muted).

While no toggle and no mute is active, Django's own ``Signal._live_receivers``
is in place and sending costs exactly what it costs without signalkit. The
first toggle or mute puts the gate on the ``Signal`` class, so it covers every
signal, also those created later; the last one to end takes it off again.
Mutes are context-local (a :class:`~contextvars.ContextVar`: other threads and
asyncio tasks are unaffected) unless entered with ``scope="process"``.

While a mute silences a whole signal (no sender, no receivers selected), the
gate also puts a check on ``Signal.send``, so that sending that signal returns
before Django's per-sender lookup: as cheap as sending a signal without
receivers. :func:`enter` and :func:`leave` are :func:`muting` without a
generator, for callers that enter and leave blocks often (test helpers).
"""

from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.dispatch.dispatcher import Signal

from signalkit.entries import make_id, unpack
from signalkit.keys import receiver_key
from signalkit.selectors import Mute, resolve_signal, sender_label

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Mute", "enter", "leave", "muting", "refresh", "resolve_signal", "sender_label"]

_original_live_receivers = Signal._live_receivers
_original_send = Signal.send
_lock = threading.Lock()
# The context's mutes, and the ids of the signals they silence entirely (no
# sender, no receivers selected): sending those skips the receiver lookup.
_context_state: ContextVar[tuple[tuple[Mute, ...], frozenset[int]]] = ContextVar(
    "signalkit_mutes", default=((), frozenset())
)
_get_state = _context_state.get
_process_mutes: tuple[Mute, ...] = ()
_process_silenced: frozenset[int] = frozenset()
_context_mute_count = 0
# Active mutes (any context) that silence whole signals: while there are any,
# Signal.send checks for them before Django's per-sender cache lookup.
_silencing_count = 0
_disabled: frozenset[str] = frozenset()


def _gated_live_receivers(self: Signal, sender: Any) -> tuple[list[Any], list[Any]]:
    signal_id = id(self)
    mutes, context_silenced = _get_state()
    if signal_id in context_silenced or signal_id in _process_silenced:
        return [], []
    active = [mute for mute in mutes + _process_mutes if mute.applies_to(self, sender)]
    entries = _entries(self, sender)
    if entries is None:  # an entry shape this version does not know: Django decides
        return _filter_resolved(self, sender, active)
    sync_receivers: list[Any] = []
    async_receivers: list[Any] = []
    for ref, sender_ref, is_async, key in entries:
        if active and any(mute.silences(key) for mute in active):
            continue
        if isinstance(ref, weakref.ReferenceType):
            ref = ref()
            if ref is None:
                continue
        if sender_ref is not None and sender_ref() is None:
            continue
        (async_receivers if is_async else sync_receivers).append(ref)
    return sync_receivers, async_receivers


def _gated_send(self: Signal, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
    signal_id = id(self)
    if signal_id in _get_state()[1] or signal_id in _process_silenced:
        return []
    return _original_send(self, sender, **named)


_Entry = tuple[Any, Any, bool, str]


def _entries(signal: Signal, sender: Any) -> list[_Entry] | None:
    """The receivers of ``signal`` for ``sender`` that the toggles let through, with
    their keys: cached per signal and sender until the receivers or toggles change."""
    receivers = signal.receivers
    if not receivers:
        return []
    state = signal.__dict__.get(_STATE)
    # connect() appends a new entry, disconnect() shortens the list and the dead
    # receiver clean-up replaces it: these three tell every change apart.
    if (
        state is None
        or state[0] is not receivers
        or state[1] != len(receivers)
        or state[2] is not receivers[-1]
        or state[3] is not _disabled
    ):
        state = (receivers, len(receivers), receivers[-1], _disabled, {})
        signal.__dict__[_STATE] = state
    by_sender: dict[Any, list[_Entry] | None] = state[4]
    sender_id = _lookup_id(sender)
    try:
        return by_sender[sender_id]
    except KeyError:
        pass
    entries = _build_entries(list(receivers), sender_id)
    if len(by_sender) >= _MAX_SENDERS:
        by_sender.clear()
    by_sender[sender_id] = entries
    return entries


def _build_entries(receivers: list[Any], sender_id: Any) -> list[_Entry] | None:
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
        if key not in _disabled:
            entries.append((ref, sender_ref, bool(is_async), key))
    return entries


def _filter_resolved(
    signal: Signal, sender: Any, active: list[Mute]
) -> tuple[list[Any], list[Any]]:
    sync_receivers, async_receivers = _original_live_receivers(signal, sender)

    def keep(receivers: list[Any]) -> list[Any]:
        kept = []
        for receiver in receivers:
            key = receiver_key(receiver)
            if key in _disabled or any(mute.silences(key) for mute in active):
                continue
            kept.append(receiver)
        return kept

    return keep(sync_receivers), keep(async_receivers)


_lookup_id = make_id
_NONE_ID = make_id(None)
_STATE = "_signalkit_gate"
_MAX_SENDERS = 1024


def installed() -> bool:
    """Whether the gate is on the ``Signal`` class right now."""
    return Signal.__dict__.get("_live_receivers") is _gated_live_receivers


def _refresh() -> None:
    # Caller holds _lock. Runs twice per mute block: kept lean.
    live = Signal.__dict__["_live_receivers"]
    if _disabled or _process_mutes or _context_mute_count:
        if live is not _gated_live_receivers:
            Signal._live_receivers = _gated_live_receivers  # type: ignore[method-assign]
    elif live is _gated_live_receivers:
        Signal._live_receivers = _original_live_receivers  # type: ignore[method-assign]
    # Leave send alone while something else (a signal capture) wraps it.
    send = Signal.__dict__["send"]
    if send is _original_send:
        if _silencing_count:
            Signal.send = _gated_send  # type: ignore[method-assign]
    elif send is _gated_send and not _silencing_count:
        Signal.send = _original_send  # type: ignore[method-assign]


def refresh() -> None:
    """Put the gate's hooks in the state the active mutes and toggles need."""
    with _lock:
        _refresh()


def refresh_toggles() -> None:
    """Read ``SIGNALKIT["RECEIVERS"]`` again (at start-up and on ``setting_changed``)."""
    global _disabled
    from signalkit.conf import get_settings

    with _lock:
        _disabled = get_settings().disabled_receivers
        _refresh()


def is_enabled(key: str) -> bool:
    """Whether the toggle of receiver ``key`` lets it run."""
    return key not in _disabled


def active_mutes() -> tuple[Mute, ...]:
    """The mutes in force for the current context (context-local and process-wide)."""
    return _get_state()[0] + _process_mutes


_NOTHING: frozenset[int] = frozenset()


def _silenced(mutes: tuple[Mute, ...]) -> frozenset[int]:
    # Entering and leaving a mute block must stay cheap: skip the unions that
    # the common cases (no mute, one mute) do not need.
    if not mutes:
        return _NOTHING
    if len(mutes) == 1:
        return mutes[0].silenced_ids
    return _NOTHING.union(*(mute.silenced_ids for mute in mutes))


def _check_scope(scope: str) -> None:
    if scope not in ("context", "process"):
        raise ValueError(f"scope is {scope!r}; use 'context' or 'process'.")


def enter(mute: Mute, scope: str = "context") -> None:
    """Start applying ``mute``; :func:`leave` ends it (``muting()`` without a generator)."""
    global _process_mutes, _process_silenced, _context_mute_count, _silencing_count
    if scope != "context":
        _check_scope(scope)
    silenced = mute.silenced_ids
    with _lock:
        if silenced:
            _silencing_count += 1
        if scope == "process":
            _process_mutes = (*_process_mutes, mute)
            _process_silenced = _process_silenced | silenced if silenced else _process_silenced
        else:
            mutes, context_silenced = _get_state()
            if silenced:
                context_silenced = context_silenced | silenced if context_silenced else silenced
            _context_state.set(((*mutes, mute), context_silenced))
            _context_mute_count += 1
        # _refresh(), reduced to what entering can change.
        if Signal.__dict__["_live_receivers"] is not _gated_live_receivers:
            Signal._live_receivers = _gated_live_receivers  # type: ignore[method-assign]
        if silenced and Signal.__dict__["send"] is _original_send:
            Signal.send = _gated_send  # type: ignore[method-assign]


def leave(mute: Mute, scope: str = "context") -> None:
    """Stop applying one entry of ``mute`` started by :func:`enter`."""
    global _process_mutes, _process_silenced, _context_mute_count, _silencing_count
    silenced = mute.silenced_ids
    with _lock:
        if silenced:
            _silencing_count -= 1
        if scope == "process":
            _process_mutes = _without(_process_mutes, mute)
            if silenced:
                _process_silenced = _silenced(_process_mutes)
        else:
            mutes, context_silenced = _get_state()
            mutes = mutes[:-1] if mutes and mutes[-1] is mute else _without(mutes, mute)
            if silenced:
                context_silenced = _silenced(mutes) if mutes else _NOTHING
            _context_state.set((mutes, context_silenced))
            _context_mute_count -= 1
        # _refresh(), reduced to what leaving can change.
        if (
            not (_disabled or _process_mutes or _context_mute_count)
            and Signal.__dict__["_live_receivers"] is _gated_live_receivers
        ):
            Signal._live_receivers = _original_live_receivers  # type: ignore[method-assign]
        if silenced and not _silencing_count and Signal.__dict__["send"] is _gated_send:
            Signal.send = _original_send  # type: ignore[method-assign]


@contextmanager
def muting(mute: Mute, *, scope: str = "context") -> Iterator[Mute]:
    """Apply ``mute`` for the duration of the block."""
    enter(mute, scope)
    try:
        yield mute
    finally:
        leave(mute, scope)


def _without(mutes: tuple[Mute, ...], mute: Mute) -> tuple[Mute, ...]:
    # The last entry of this very mute, so that blocks may end in any order and
    # one mute entered twice stays active until both blocks end.
    if mutes and mutes[-1] is mute:
        return mutes[:-1]
    for index in range(len(mutes) - 1, -1, -1):
        if mutes[index] is mute:
            return mutes[:index] + mutes[index + 1 :]
    return mutes
