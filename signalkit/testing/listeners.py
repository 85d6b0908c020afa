"""``Signal.has_listeners()`` while a capture records the signal.

Django sends some signals only when ``has_listeners()`` says that a receiver
would run: ``pre_delete`` and ``post_delete`` (a delete takes the fast path
otherwise) and ``m2m_changed``'s ``pre_add`` and ``post_add``. A mute of their
receivers makes ``has_listeners()`` answer ``False``, so those sends would not
happen at all, and a capture could not record them. While a capture in the
current context records such a signal, ``has_listeners()`` answers as if no
mute were active: the code sends what it sends unmuted, the capture records it,
and the muted receivers still do not run. Receivers switched off by their
toggles stay off, and other contexts are not concerned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signalkit import gate

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.dispatch import Signal

__all__ = ["wrap_has_listeners"]


def wrap_has_listeners(
    original: Callable[..., bool], records: Callable[[Signal], bool]
) -> Callable[..., bool]:
    """``original`` (``Signal.has_listeners``), which ignores the mutes for a
    signal that ``records`` says a capture of the current context records."""

    def has_listeners(self: Signal, sender: Any = None) -> bool:
        if records(self) and gate.active_mutes():
            sync_receivers, async_receivers = gate.unmuted_live_receivers(self, sender)
            return bool(sync_receivers) or bool(async_receivers)
        return original(self, sender)

    has_listeners.__signalkit_capture__ = True  # type: ignore[attr-defined]
    has_listeners.__wrapped__ = original  # type: ignore[attr-defined]
    return has_listeners
