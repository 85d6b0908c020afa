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
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.dispatch.dispatcher import Signal
from django.utils.module_loading import import_string

from signalkit.keys import is_protected, receiver_key

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

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
        "silenced_ids",
    )

    def __init__(
        self,
        signals: Iterable[Signal | str] = (),
        *,
        sender: Any = None,
        receivers: Iterable[Any] | None = None,
    ) -> None:
        self._signals = tuple(resolve_signal(signal) for signal in signals)
        self.signal_ids = frozenset(id(signal) for signal in self._signals) or None
        self.sender = sender
        self.sender_label = sender_label(sender)
        self.keys = (
            None
            if receivers is None
            else frozenset(
                item if isinstance(item, str) else receiver_key(item) for item in receivers
            )
        )
        self.catch_all = self.signal_ids is None and self.keys is None
        # Signals this mute silences for every sender and every receiver.
        self.silenced_ids = (
            self.signal_ids
            if self.signal_ids is not None and sender is None and self.keys is None
            else frozenset()
        )

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
        return self.sender_label is not None and sender_label(sender) == self.sender_label

    def silences(self, key: str) -> bool:
        if self.keys is not None:
            return key in self.keys
        return not (self.catch_all and is_protected(key))


def resolve_signal(signal: Signal | str) -> Signal:
    """``signal``, or the signal its dotted path names."""
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


def sender_label(sender: Any) -> str | None:
    """``"app_label.Model"`` of a model class (or the label given as a string)."""
    if isinstance(sender, str):
        return sender
    meta = getattr(sender, "_meta", None) if isinstance(sender, type) else None
    label = getattr(meta, "label", None)
    return label if isinstance(label, str) else None


def _gated_live_receivers(self: Signal, sender: Any) -> tuple[list[Any], list[Any]]:
    signal_id = id(self)
    if signal_id in _get_state()[1] or signal_id in _process_silenced:
        return [], []
    sync_receivers, async_receivers = _original_live_receivers(self, sender)
    if not (sync_receivers or async_receivers):
        return sync_receivers, async_receivers
    mutes = _get_state()[0] + _process_mutes
    if mutes:
        mutes = tuple(mute for mute in mutes if mute.applies_to(self, sender))
    disabled = _disabled
    if not (mutes or disabled):
        return sync_receivers, async_receivers
    return _keep(sync_receivers, mutes, disabled), _keep(async_receivers, mutes, disabled)


def _gated_send(self: Signal, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
    signal_id = id(self)
    if signal_id in _get_state()[1] or signal_id in _process_silenced:
        return []
    return _original_send(self, sender, **named)


def _keep(receivers: list[Any], mutes: tuple[Mute, ...], disabled: frozenset[str]) -> list[Any]:
    kept = []
    for receiver in receivers:
        key = receiver_key(receiver)
        if key in disabled or any(mute.silences(key) for mute in mutes):
            continue
        kept.append(receiver)
    return kept


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
