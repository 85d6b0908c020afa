"""What the gate puts on the ``Signal`` class, and the state those hooks read.

:mod:`signalkit.gate` decides when these hooks are in place and keeps the state
below up to date (under its lock); here they run, on every send while a toggle
or mute is active. So they read plain module globals: the disabled toggle keys,
the process-wide mutes and what the gate found in place of ``_live_receivers``.

The ``_live_receivers`` hook sitting right on Django's own method reads
``Signal.receivers`` itself (through the toggles' cache), skipping Django's
per-sender lookup; the one over another library's wrapper filters what that
wrapper resolves. The ``send`` hook returns at once for a signal a mute silences
entirely.
"""

from __future__ import annotations

import inspect
import weakref
from typing import TYPE_CHECKING, Any

from django.dispatch.dispatcher import Signal

from signalkit import mutestack
from signalkit.keys import is_spared
from signalkit.resolved import filter_resolved, is_djangos
from signalkit.selectors import silenced_keys
from signalkit.toggled import toggled_entries

if TYPE_CHECKING:
    from signalkit.selectors import Mute

_original_send = Signal.send
# What the gate calls through to: the _live_receivers it found when it last put
# itself on the class.
below: Any = Signal._live_receivers
_djangos_live_receivers: Any = below if is_djangos(below) else None
_get_state = mutestack.state.get
_silences = mutestack.silences
process_mutes: tuple[Mute, ...] = ()
process_silenced: frozenset[int] = frozenset()
disabled: frozenset[str] = frozenset()
_NO_KEYS: frozenset[str] = frozenset()
_NO_MUTES: list[Mute] = []  # (never appended to)


def _applying(signal: Signal, sender: Any) -> list[Mute] | None:
    """The mutes that apply to this send; None when one silences the whole signal.
    Those whose block has ended (in a context copied inside it) do not."""
    signal_id = id(signal)
    frame = _get_state()
    if signal_id in process_silenced or (signal_id in frame[1] and _silences(frame, signal_id)):
        return None
    # (No comprehension while there are no process-wide mutes: the common case.)
    active = (
        [mute for mute in process_mutes if mute.applies_to(signal, sender)] if process_mutes else []
    )
    entry = frame[0]
    while entry is not None:  # [mute, ended]
        if not entry[1]:
            mute = entry[0]
            # (The signal checked here first: most mutes are of other signals.)
            ids = mute.signal_ids
            if (ids is None or signal_id in ids) and mute.applies_to(signal, sender):
                active.append(mute)
        frame = frame[2]
        entry = frame[0]
    return active


def _gated_live_receivers(self: Signal, sender: Any) -> tuple[list[Any], list[Any]]:
    active = _NO_MUTES
    # (No call to _applying() while no mute is active here: toggles only.)
    if process_mutes or _get_state()[0] is not None:
        applying = _applying(self, sender)
        if applying is None:
            return [], []
        active = applying
    entries = toggled_entries(self, sender, disabled)
    if entries is None:  # an entry shape this version does not know: Django decides
        return _filter_resolved(self, sender, active)
    muted, catch_all = _NO_KEYS, False
    if active:
        # What the mutes silence, worked out once per send rather than asked of
        # each mute for each receiver.
        silenced = silenced_keys(active, id(self))
        if silenced is None:
            return [], []
        muted, catch_all = silenced
    sync_receivers: list[Any] = []
    async_receivers: list[Any] = []
    for ref, sender_ref, is_async, key in entries:
        if active and (key in muted or (catch_all and not is_spared(key))):
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
    frame = _get_state()
    if signal_id in frame[1]:
        entry = frame[0]
        # Most often the innermost mute silences it (its entry: [mute, ended]).
        if (not entry[1] and signal_id in entry[0].silenced_ids) or _silences(frame, signal_id):
            return []
    if signal_id in process_silenced:
        return []
    return _original_send(self, sender, **named)


def _gated_wrapper_live_receivers(self: Signal, sender: Any) -> tuple[list[Any], list[Any]]:
    # The gate over another library's wrapper: that wrapper resolves the
    # receivers (and may wrap each one), the gate filters what it returns.
    active = _applying(self, sender)
    if active is None:
        return [], []
    if not (active or disabled):
        return below(self, sender)  # type: ignore[no-any-return]
    return _filter_resolved(self, sender, active)


def _filter_resolved(
    signal: Signal, sender: Any, active: list[Mute]
) -> tuple[list[Any], list[Any]]:
    signal_id = id(signal)

    def skip(key: str) -> bool:
        return key in disabled or any(mute.silences(key, signal_id) for mute in active)

    return filter_resolved(signal, below(signal, sender), skip)


def unmuted_live_receivers(signal: Signal, sender: Any) -> tuple[list[Any], list[Any]]:
    """The receivers a send would reach if no mute were active: those the
    toggles let through."""
    if not disabled:
        return below(signal, sender)  # type: ignore[no-any-return]
    return _filter_resolved(signal, sender, [])


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
