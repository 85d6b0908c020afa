"""Connections Django would drop without a word.

Django keeps one connection per lookup key, ``(dispatch_uid or the receiver's
id, the sender's id)``: the same function connected again another way (with or
without ``on_commit`` or ``offload``) under a key already taken is ignored.
:func:`warn_if_taken` says so when :func:`signalkit.receiver` connects.

A model signal's sender given as ``"app_label.Model"`` is connected by Django
under the id of that model class, so the label is resolved as Django resolves
it. While the model is not registered yet, Django keeps the connection waiting
and makes it, in order with the others waiting, when the model is registered:
those waiting connections are what a new one is compared with then.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models.signals import ModelSignal
from django.db.models.utils import make_model_tuple

from signalkit import keys
from signalkit.deferred import DeferredReceiver
from signalkit.entries import connected_under, make_id
from signalkit.senders import pending_connections

if TYPE_CHECKING:
    from django.dispatch import Signal

__all__ = ["holder_of", "warn_if_taken"]


def warn_if_taken(
    signal: Signal, func: Any, uid: Any, sender: Any, kind: tuple[bool, bool]
) -> bool:
    """Warn if ``func``, connected to ``signal`` for ``sender`` under ``uid`` in the
    way ``kind`` (``(on_commit, offload)``), is connected there already another
    way; whether a receiver holds that connection already (Django ignores this one).

    (Connected again the same way, as when ``ready()`` runs twice, it is the
    de-duplication Django promises.)
    """
    if not isinstance(getattr(signal, "receivers", None), list):
        return False  # (another library's signal, which keeps its receivers its own way)
    holder = holder_of(signal, uid, sender)
    if holder is None:
        return False
    wrapped = holder.__wrapped__ if isinstance(holder, DeferredReceiver) else holder
    if make_id(wrapped) != make_id(func):
        return True  # a dispatch_uid another receiver holds (an equal one included)
    held = (
        (holder.on_commit, holder.offload)
        if isinstance(holder, DeferredReceiver)
        else (False, False)
    )
    key = keys.receiver_key(func)
    if held[1] and kind[1] and held != kind:
        # on_commit=True changes nothing for an offloaded receiver: the two run alike.
        warnings.warn(
            f"{key} is connected to this signal and sender already, {_how(*held)}; this "
            f"connection, {_how(*kind)}, is the same one (on_commit=True changes nothing "
            "with offload=True: SIGNALKIT['OFFLOAD']['DELIVERY'] decides when its task is "
            f"queued), so Django keeps the first only and {key} runs once per signal, on "
            "a worker. Remove one of the two.",
            RuntimeWarning,
            stacklevel=4,  # (the code that applied signalkit.receiver)
        )
    elif held != kind:
        warnings.warn(
            f"{key} is connected to this signal and sender already, "
            f"{_how(*held)}; Django keeps one connection per receiver and sender, so this "
            f"connection, {_how(*kind)}, is ignored. Connect a second function, or give "
            "each connection its own dispatch_uid.",
            RuntimeWarning,
            stacklevel=4,  # (the code that applied signalkit.receiver)
        )
    return True


def holder_of(signal: Signal, uid: Any, sender: Any) -> Any:
    """The receiver that holds, or will hold, the connection of ``signal`` under
    ``uid`` for ``sender`` (a model label resolved as Django does), or None."""
    if isinstance(sender, str) and isinstance(signal, ModelSignal):
        try:
            model_key = make_model_tuple(sender)
        except ValueError:
            return None  # (Django's connect() says what is wrong with the label)
        try:
            sender = apps.get_registered_model(*model_key)
        except LookupError:
            return _waiting_under(signal, uid, model_key)
    return connected_under(signal, (uid, make_id(sender)))


def _waiting_under(signal: Signal, uid: Any, model_key: tuple[str, str]) -> Any:
    # The first of the connections waiting for the model wins, as Django makes
    # them in order.
    for pending in pending_connections(model_key):
        if pending.signal is not signal:
            continue
        receiver = pending.receiver
        if (pending.dispatch_uid or make_id(receiver)) == uid:
            return receiver
    return None


def _how(on_commit: bool, offload: bool) -> str:
    if offload:
        return "with offload=True" + (" and on_commit=True" if on_commit else "")
    return "with on_commit=True" if on_commit else "without on_commit or offload"
