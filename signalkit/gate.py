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
"""

from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.dispatch.dispatcher import Signal
from django.utils.module_loading import import_string

from signalkit.entries import make_id, unpack
from signalkit.keys import is_protected, receiver_key

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

_original_live_receivers = Signal._live_receivers
_lock = threading.Lock()
_context_mutes: ContextVar[tuple[Mute, ...]] = ContextVar("signalkit_mutes", default=())
_process_mutes: tuple[Mute, ...] = ()
_context_mute_count = 0
_disabled: frozenset[str] = frozenset()


class Mute:
    """What one mute silences: some signals (or all), for one sender (or any),
    some receivers (or all).

    A mute of every signal and every receiver (a *catch-all*) spares the
    receivers Django itself connects and signalkit's own bookkeeping.
    """

    __slots__ = (
        "_signals",
        "catch_all",
        "keys",
        "sender",
        "sender_label",
        "signal_ids",
        "silences_everything",
    )

    def __init__(
        self,
        signals: Iterable[Signal | str] = (),
        *,
        sender: Any = None,
        receivers: Iterable[Any] | None = None,
    ) -> None:
        self._signals = tuple(_resolve_signal(signal) for signal in signals)
        self.signal_ids = frozenset(id(signal) for signal in self._signals) or None
        self.sender = sender
        self.sender_label = _sender_label(sender)
        self.keys = (
            None
            if receivers is None
            else frozenset(
                item if isinstance(item, str) else receiver_key(item) for item in receivers
            )
        )
        self.catch_all = self.signal_ids is None and self.keys is None
        # Named signals, every receiver: nothing to look at per receiver.
        self.silences_everything = self.signal_ids is not None and self.keys is None

    def __repr__(self) -> str:
        parts = [repr(signal) for signal in self._signals] or ["every signal"]
        if self.sender is not None:
            parts.append(f"sender={self.sender_label or self.sender!r}")
        if self.keys is not None:
            parts.append(f"receivers={sorted(self.keys)!r}")
        return f"<Mute {', '.join(parts)}>"

    def applies_to(self, signal: Signal, sender: Any) -> bool:
        if self.signal_ids is not None and id(signal) not in self.signal_ids:
            return False
        if self.sender is None or sender is self.sender:
            return True
        return self.sender_label is not None and _sender_label(sender) == self.sender_label

    def silences(self, key: str) -> bool:
        if self.keys is not None:
            return key in self.keys
        return not (self.catch_all and is_protected(key))


def _resolve_signal(signal: Signal | str) -> Signal:
    if isinstance(signal, Signal):
        return signal
    if isinstance(signal, str):
        try:
            resolved = import_string(signal)
        except ImportError as exc:
            raise ValueError(
                f"{signal!r} is not the dotted path of a signal, "
                "such as 'django.db.models.signals.post_save'."
            ) from exc
        if isinstance(resolved, Signal):
            return resolved
        raise ValueError(f"{signal!r} is {resolved!r}, not a signal.")
    raise TypeError(f"{signal!r} is not a signal or the dotted path of one.")


def _sender_label(sender: Any) -> str | None:
    if isinstance(sender, str):
        return sender
    meta = getattr(sender, "_meta", None) if isinstance(sender, type) else None
    label = getattr(meta, "label", None)
    return label if isinstance(label, str) else None


def _gated_live_receivers(self: Signal, sender: Any) -> tuple[list[Any], list[Any]]:
    active: list[Mute] = []
    mutes = _context_mutes.get()
    if _process_mutes:
        mutes += _process_mutes
    for mute in mutes:
        if mute.applies_to(self, sender):
            if mute.silences_everything:
                return [], []
            active.append(mute)
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
    # Caller holds _lock.
    wanted = bool(_disabled or _process_mutes or _context_mute_count)
    if wanted and not installed():
        Signal._live_receivers = _gated_live_receivers  # type: ignore[method-assign]
    elif not wanted and installed():
        Signal._live_receivers = _original_live_receivers  # type: ignore[method-assign]


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
    return _context_mutes.get() + _process_mutes


@contextmanager
def muting(mute: Mute, *, scope: str = "context") -> Iterator[Mute]:
    """Apply ``mute`` for the duration of the block."""
    global _process_mutes, _context_mute_count
    if scope not in ("context", "process"):
        raise ValueError(f"scope is {scope!r}; use 'context' or 'process'.")
    with _lock:
        if scope == "process":
            _process_mutes = (*_process_mutes, mute)
        else:
            _context_mutes.set((*_context_mutes.get(), mute))
            _context_mute_count += 1
        _refresh()
    try:
        yield mute
    finally:
        with _lock:
            if scope == "process":
                _process_mutes = _without(_process_mutes, mute)
            else:
                _context_mutes.set(_without(_context_mutes.get(), mute))
                _context_mute_count -= 1
            _refresh()


def _without(mutes: tuple[Mute, ...], mute: Mute) -> tuple[Mute, ...]:
    # The last entry of this very mute, so that blocks may end in any order and
    # one mute entered twice stays active until both blocks end.
    for index in range(len(mutes) - 1, -1, -1):
        if mutes[index] is mute:
            return mutes[:index] + mutes[index + 1 :]
    return mutes
