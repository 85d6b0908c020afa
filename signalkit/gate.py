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
asyncio tasks are unaffected) unless entered with ``scope="process"``.

While a mute silences a whole signal (no sender, no receivers selected), the
gate also puts a check on ``Signal.send``, so that sending that signal returns
before Django's per-sender lookup: as cheap as sending a signal without
receivers. :func:`enter` and :func:`leave` are :func:`muting` without a
generator, for callers that enter and leave blocks often (test helpers).
"""

from __future__ import annotations

import inspect
import threading
import weakref
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.dispatch.dispatcher import Signal

from signalkit import mutestack
from signalkit.resolved import filter_resolved, is_djangos
from signalkit.selectors import Mute, resolve_signal, sender_label
from signalkit.toggled import toggled_entries

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "Mute",
    "enter",
    "leave",
    "muting",
    "process_mutes",
    "rearmed",
    "refresh",
    "resolve_signal",
    "sender_label",
]

_original_send = Signal.send
# What the gate calls through to: the _live_receivers it found when it last put
# itself on the class. _gate is the gate function it put there, _in_chain whether
# it is still there (possibly under a wrapper installed on top of it since).
_below: Any = Signal._live_receivers
_djangos_live_receivers: Any = _below if is_djangos(_below) else None
_gate: Any = None
_in_chain = False
_lock = threading.Lock()
# Cheaper than "with _lock:" where a mute block is entered and left.
_acquire = _lock.acquire
_release = _lock.release
_get_state = mutestack.state.get
_set_state = mutestack.state.set
_stacked_mutes = mutestack.stacked
_push_mute = mutestack.push
_without_mute = mutestack.without
_process_mutes: tuple[Mute, ...] = ()
_process_silenced: frozenset[int] = frozenset()
_context_mute_count = 0
# Active mutes (any context) that silence whole signals: while there are any,
# Signal.send checks for them before Django's per-sender cache lookup.
_silencing_count = 0
_disabled: frozenset[str] = frozenset()


def _applying(signal: Signal, sender: Any) -> list[Mute] | None:
    """The mutes that apply to this send; None when one silences the whole signal."""
    signal_id = id(signal)
    frame = _get_state()
    if signal_id in frame[1] or signal_id in _process_silenced:
        return None
    active = [mute for mute in _process_mutes if mute.applies_to(signal, sender)]
    while frame[0] is not None:
        if frame[0].applies_to(signal, sender):
            active.append(frame[0])
        frame = frame[2]
    return active


def _gated_live_receivers(self: Signal, sender: Any) -> tuple[list[Any], list[Any]]:
    active = _applying(self, sender)
    if active is None:
        return [], []
    entries = toggled_entries(self, sender, _disabled)
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


def _gated_wrapper_live_receivers(self: Signal, sender: Any) -> tuple[list[Any], list[Any]]:
    # The gate over another library's wrapper: that wrapper resolves the
    # receivers (and may wrap each one), the gate filters what it returns.
    active = _applying(self, sender)
    if active is None:
        return [], []
    if not (active or _disabled):
        return _below(self, sender)  # type: ignore[no-any-return]
    return _filter_resolved(self, sender, active)


def _filter_resolved(
    signal: Signal, sender: Any, active: list[Mute]
) -> tuple[list[Any], list[Any]]:
    def skip(key: str) -> bool:
        return key in _disabled or any(mute.silences(key) for mute in active)

    return filter_resolved(signal, _below(signal, sender), skip)


def _put_on() -> None:
    # Caller holds _lock: the gate goes on top of whatever is there, unless it
    # is still in place (on top, or under a wrapper installed since).
    global _below, _gate, _in_chain
    live = Signal.__dict__["_live_receivers"]
    if live is _gate:
        return
    djangos = _is_djangos(live)
    if not djangos and _reaches_gate(live):
        return
    _below = live
    _gate = _gated_live_receivers if djangos else _gated_wrapper_live_receivers
    _in_chain = True
    Signal._live_receivers = _gate  # type: ignore[method-assign]


def _take_off() -> None:
    # Caller holds _lock: put back what the gate found, unless something was
    # installed on top of it since (then the gate stays and lets all through).
    global _in_chain
    live = Signal.__dict__["_live_receivers"]
    if live is _gate:
        Signal._live_receivers = _below  # type: ignore[method-assign]
        _in_chain = False
    elif not _reaches_gate(live):  # replaced, not wrapped
        _in_chain = False


def _is_djangos(live: Any) -> bool:
    # Django's own method found at import first: the common case, and cheap.
    return live is _djangos_live_receivers or is_djangos(live)


def _reaches_gate(live: Any) -> bool:
    """Whether ``live`` is the gate or a wrapper installed over it (``functools.wraps``
    chain): a wrapper that replaced it instead, calling what it saved earlier,
    does not reach it."""
    try:
        return _is_gate(inspect.unwrap(live, stop=_is_gate))
    except ValueError:  # a __wrapped__ cycle
        return False


def _is_gate(function: Any) -> bool:
    return function is _gated_live_receivers or function is _gated_wrapper_live_receivers


def installed() -> bool:
    """Whether the gate is on the ``Signal`` class right now."""
    return _gate is not None and Signal.__dict__.get("_live_receivers") is _gate


def _refresh() -> None:
    # Caller holds _lock. Runs twice per mute block: kept lean.
    if _disabled or _process_mutes or _context_mute_count:
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
    return _stacked_mutes(_get_state()) + _process_mutes


def process_mutes() -> tuple[Mute, ...]:
    """The process-wide mutes in force now, oldest first."""
    return _process_mutes


def check_scope(scope: str) -> None:
    """Refuse a ``scope`` other than ``"context"`` and ``"process"``."""
    if scope not in ("context", "process"):
        raise ValueError(f"scope is {scope!r}; use 'context' or 'process'.")


@contextmanager
def rearmed(also: tuple[Mute, ...] = ()) -> Iterator[None]:
    """Count the mutes the current context holds once more for the block, with
    the mutes ``also`` that are not in force here stacked on top of them.

    A copied context run later (a deferred call's) holds the frames of mute
    blocks that have ended since, and the gate is on the ``Signal`` class only
    while mutes are counted: the frames are counted again, not pushed again.
    ``also``: mutes in force elsewhere that apply too (where the call runs, or
    the process-wide ones of its send, which no context holds).
    """
    global _context_mute_count
    frame = _get_state()
    present = _stacked_mutes(frame) + _process_mutes
    for mute in also:
        if not any(mute is each for each in present):
            frame = _push_mute(frame, mute)
            present += (mute,)
    token = _set_state(frame)
    mutes = _stacked_mutes(frame)
    try:
        if not mutes:
            yield
            return
        with _lock:
            for mute in mutes:
                _arm(mute)
        try:
            yield
        finally:
            with _lock:
                for mute in mutes:
                    _context_mute_count -= 1
                    _stand_down(mute)
    finally:
        mutestack.state.reset(token)


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
    # Caller holds _lock: _refresh(), reduced to what counting one more context
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
    _set_state(frame[2] if frame[0] is mute else _without_mute(frame, mute))
    _acquire()
    try:
        _context_mute_count -= 1
        _stand_down(mute)
    finally:
        _release()


def _stand_down(mute: Mute) -> None:
    # Caller holds _lock: _refresh(), reduced to what leaving can change.
    global _silencing_count
    if _in_chain and not (_disabled or _process_mutes or _context_mute_count):
        _take_off()
    if mute.silenced_ids:
        _silencing_count -= 1
        if not _silencing_count and Signal.__dict__["send"] is _gated_send:
            Signal.send = _original_send  # type: ignore[method-assign]


def _enter_process(mute: Mute, scope: str) -> None:
    global _process_mutes, _process_silenced, _silencing_count
    check_scope(scope)
    with _lock:
        _process_mutes = (*_process_mutes, mute)
        if mute.silenced_ids:
            _silencing_count += 1
            _process_silenced = _process_silenced | mute.silenced_ids
        _refresh()


def _leave_process(mute: Mute) -> None:
    global _process_mutes, _process_silenced
    with _lock:
        if mute in _process_mutes:
            index = len(_process_mutes) - 1 - _process_mutes[::-1].index(mute)
            _process_mutes = _process_mutes[:index] + _process_mutes[index + 1 :]
        _process_silenced = frozenset().union(*(each.silenced_ids for each in _process_mutes))
        _stand_down(mute)


@contextmanager
def muting(mute: Mute, *, scope: str = "context") -> Iterator[Mute]:
    """Apply ``mute`` for the duration of the block."""
    enter(mute, scope)
    try:
        yield mute
    finally:
        leave(mute, scope)
