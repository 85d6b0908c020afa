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

Other libraries wrap ``_live_receivers`` too (sentry-sdk does, to time
receivers). The gate calls through to whatever it found in place, and when it
steps aside it puts that back; a wrapper installed on top of the gate since is
left alone (the gate stays under it and lets every receiver through). Only when
the gate sits right on Django's own method does it read ``Signal.receivers``
itself, skipping Django's per-sender lookup.
Mutes are context-local (a :class:`~contextvars.ContextVar`: other threads and
asyncio tasks are unaffected) unless entered with ``scope="process"``. A mute
ends with its block, also for a context copied inside it that runs on (an
asyncio task, an executor job): the gate ignores the entries of ended blocks
(:mod:`signalkit.mutestack`), so whether such a context is muted never depends
on the mutes of other threads, which decide whether the gate is in place.

While a mute silences a whole signal (no sender, no receivers selected), the
gate also puts a check on ``Signal.send``, so that sending that signal returns
before Django's per-sender lookup: as cheap as sending a signal without
receivers. :func:`enter` and :func:`leave` are :func:`muting` without a
generator, for callers that enter and leave blocks often (test helpers).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.dispatch.dispatcher import Signal

from signalkit import gated, mutestack
from signalkit.gated import (
    _gated_live_receivers,
    _gated_send,
    _gated_wrapper_live_receivers,
    _is_djangos,
    _original_send,
    _reaches_gate,
)
from signalkit.selectors import Mute, resolve_signal, sender_label

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "Mute",
    "enter",
    "leave",
    "muting",
    "process_mutes",
    "refresh",
    "resolve_signal",
    "sender_label",
]

# The hooks the gate puts on the Signal class (and their state) are in
# signalkit.gated: _gate is the hook it put there, _in_chain whether it is still
# there (possibly under a wrapper installed on top of it since).
_gate: Any = None
_in_chain = False
#: Held while the methods of the ``Signal`` class are replaced: by the gate, and
#: by signal captures (:mod:`signalkit.testing.capture`), which wrap ``send`` too.
#: One lock for both, or one could write back a method it read before the other
#: replaced it, and drop the other's change.
lock = threading.Lock()
# Cheaper than "with lock:" where a mute block is entered and left.
_acquire = lock.acquire
_release = lock.release
_get_state = mutestack.state.get
_set_state = mutestack.state.set
_stacked_mutes = mutestack.stacked
_push_mute = mutestack.push
_without_mute = mutestack.without
_context_mute_count = 0
# Active mutes (any context) that silence whole signals: while there are any,
# Signal.send checks for them before Django's per-sender cache lookup.
_silencing_count = 0


def _put_on() -> None:
    # Caller holds the lock: the gate goes on top of whatever is there, unless it
    # is still in place (on top, or under a wrapper installed since).
    global _gate, _in_chain
    live = Signal.__dict__["_live_receivers"]
    if live is _gate:
        return
    djangos = _is_djangos(live)
    if not djangos and _reaches_gate(live):
        return
    gated.below = live
    _gate = _gated_live_receivers if djangos else _gated_wrapper_live_receivers
    _in_chain = True
    Signal._live_receivers = _gate  # type: ignore[method-assign]


def _take_off() -> None:
    # Caller holds the lock: put back what the gate found, unless something was
    # installed on top of it since (then the gate stays and lets all through).
    global _in_chain
    live = Signal.__dict__["_live_receivers"]
    if live is _gate:
        Signal._live_receivers = gated.below  # type: ignore[method-assign]
        _in_chain = False
    elif not _reaches_gate(live):  # replaced, not wrapped
        _in_chain = False


def installed() -> bool:
    """Whether the gate is on the ``Signal`` class right now."""
    return _gate is not None and Signal.__dict__.get("_live_receivers") is _gate


def unmuted_live_receivers(signal: Signal, sender: Any) -> tuple[list[Any], list[Any]]:
    """What ``signal._live_receivers(sender)`` would return if no mute were
    active (receivers switched off by their toggles stay off)."""
    if not _in_chain:
        return signal._live_receivers(sender)
    return gated.unmuted_live_receivers(signal, sender)


def _refresh() -> None:
    # Caller holds the lock. Runs twice per mute block: kept lean.
    if gated.disabled or gated.process_mutes or _context_mute_count:
        if Signal.__dict__["_live_receivers"] is not _gate:
            _put_on()
    elif _in_chain:
        _take_off()
    # Leave send alone while something else (a signal capture) wraps it.
    send = Signal.__dict__["send"]
    if send is _original_send:
        if _silencing_count:
            Signal.send = _gated_send  # type: ignore[method-assign]
    elif send is _gated_send and not _silencing_count:
        Signal.send = _original_send  # type: ignore[method-assign]


def refresh() -> None:
    """Put the gate's hooks in the state the active mutes and toggles need."""
    with lock:
        _refresh()


def refresh_toggles() -> None:
    """Read ``SIGNALKIT["RECEIVERS"]`` again (at start-up and on ``setting_changed``)."""
    from signalkit.conf import get_settings

    with lock:
        gated.disabled = get_settings().disabled_receivers
        _refresh()


def is_enabled(key: str) -> bool:
    """Whether the toggle of receiver ``key`` lets it run."""
    return key not in gated.disabled


def active_mutes() -> tuple[Mute, ...]:
    """The mutes in force for the current context (context-local and process-wide),
    without those of blocks that have ended (which a copied context still holds)."""
    frame = _get_state()
    if frame[0] is None:  # (no block entered in this context: the common case)
        return gated.process_mutes
    return _stacked_mutes(frame) + gated.process_mutes


def process_mutes() -> tuple[Mute, ...]:
    """The process-wide mutes in force now, oldest first."""
    return gated.process_mutes


def check_scope(scope: str) -> None:
    """Refuse a ``scope`` other than ``"context"`` and ``"process"``."""
    if scope not in ("context", "process"):
        raise ValueError(f"scope is {scope!r}; use 'context' or 'process'.")


def enter(mute: Mute, scope: str = "context") -> None:
    """Start applying ``mute``; :func:`leave` ends it (``muting()`` without a generator)."""
    if scope != "context":
        _enter_process(mute, scope)
        return
    _set_state(_push_mute(_get_state(), mute))
    _acquire()
    try:
        _arm(mute)
    finally:
        _release()


def _arm(mute: Mute) -> None:
    # Caller holds the lock: _refresh(), reduced to what counting one more context
    # mute can change.
    global _context_mute_count, _silencing_count
    _context_mute_count += 1
    if Signal.__dict__["_live_receivers"] is not _gate:
        _put_on()
    if mute.silenced_ids:
        _silencing_count += 1
        if Signal.__dict__["send"] is _original_send:
            Signal.send = _gated_send  # type: ignore[method-assign]


def leave(mute: Mute, scope: str = "context") -> None:
    """Stop applying one entry of ``mute`` started by :func:`enter`."""
    global _context_mute_count
    if scope != "context":
        _leave_process(mute)
        return
    frame = _get_state()
    # Blocks end in reverse order of entry, unless enter() and leave() are
    # called by hand: then the latest entry of this very mute is taken out.
    # Marked ended, it no longer applies to the contexts copied in the block.
    entry = frame[0]  # [mute, ended]
    if entry is not None and entry[0] is mute:
        _set_state(frame[2])
    else:
        frame, entry = _without_mute(frame, mute)
        _set_state(frame)
    if entry is not None:
        entry[1] = True
    _acquire()
    try:
        _context_mute_count -= 1
        _stand_down(mute)
    finally:
        _release()


def _stand_down(mute: Mute) -> None:
    # Caller holds the lock: _refresh(), reduced to what leaving can change.
    global _silencing_count
    # (The count first: a nested block ends without reading signalkit.gated.)
    if _in_chain and not (_context_mute_count or gated.disabled or gated.process_mutes):
        _take_off()
    if mute.silenced_ids:
        _silencing_count -= 1
        if not _silencing_count and Signal.__dict__["send"] is _gated_send:
            Signal.send = _original_send  # type: ignore[method-assign]


def _enter_process(mute: Mute, scope: str) -> None:
    global _silencing_count
    check_scope(scope)
    with lock:
        gated.process_mutes = (*gated.process_mutes, mute)
        if mute.silenced_ids:
            _silencing_count += 1
            gated.process_silenced = gated.process_silenced | mute.silenced_ids
        _refresh()


def _leave_process(mute: Mute) -> None:
    with lock:
        mutes = gated.process_mutes
        if mute in mutes:
            index = len(mutes) - 1 - mutes[::-1].index(mute)
            gated.process_mutes = mutes = mutes[:index] + mutes[index + 1 :]
        gated.process_silenced = frozenset().union(*(each.silenced_ids for each in mutes))
        _stand_down(mute)


@contextmanager
def muting(mute: Mute, *, scope: str = "context") -> Iterator[Mute]:
    """Apply ``mute`` for the duration of the block."""
    enter(mute, scope)
    try:
        yield mute
    finally:
        leave(mute, scope)
