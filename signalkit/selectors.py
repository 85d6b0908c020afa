"""What a mute selects: signals, a sender and receivers."""

from __future__ import annotations

import sys
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.signals import setting_changed
from django.dispatch.dispatcher import Signal
from django.utils.module_loading import import_string

from signalkit.keys import is_spared, receiver_key
from signalkit.model_senders import check_instance_sender

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

_SETTING_CHANGED = frozenset({id(setting_changed)})


class Mute:
    """What one mute silences: some signals (or all), for one sender (or any),
    some receivers (or all).

    A mute of every signal and every receiver (a *catch-all*) spares the
    receivers Django itself connects and signalkit's own bookkeeping.
    """

    __slots__ = (
        "_label_pending",
        "_signals",
        "catch_all",
        "keys",
        "sender",
        "sender_label",
        "signal_ids",
        "silenced_ids",
        "sparing_ids",
        "unchecked",
    )

    def __init__(
        self,
        signals: Iterable[Signal | str] = (),
        *,
        sender: Any = None,
        receivers: Iterable[Any] | str | Callable[..., Any] | None = None,
    ) -> None:
        self._signals = tuple(_resolve_muted(signal) for signal in signals)
        if isinstance(sender, list | tuple | set | frozenset | dict):
            raise TypeError(_several_senders(sender))
        check_instance_sender(self._signals, sender, "the mute would silence none of its sends")
        self.signal_ids = frozenset(id(signal) for signal in self._signals) or None
        self.sender = sender
        self.sender_label = sender_label(sender)
        # Before the models are loaded a label cannot be checked: it is at first use.
        self._label_pending = isinstance(sender, str) and not apps.models_ready
        if isinstance(sender, str) and not self._label_pending:
            self.sender_label = model_label(sender)
        if isinstance(receivers, str) or callable(receivers):
            # One receiver, not a collection: a key would be read character by
            # character and mute nothing.
            receivers = (receivers,)
        if receivers is not None:
            receivers = tuple(receivers)
            for item in receivers:
                if not (isinstance(item, str) or callable(item)):
                    raise TypeError(_not_a_receiver(item))
        self.keys = (
            None
            if receivers is None
            else frozenset(
                item if isinstance(item, str) else receiver_key(item) for item in receivers
            )
        )
        # Keys given as strings, until the mute's user has seen that each can
        # name a receiver (signalkit.keycheck): a misspelt one would mute nothing.
        self.unchecked: tuple[str, ...] = (
            () if receivers is None else tuple(item for item in receivers if isinstance(item, str))
        )
        self.catch_all = self.signal_ids is None and self.keys is None
        # Signals on which this mute spares the receivers a catch-all spares:
        # override_settings relies on Django's own receivers of setting_changed
        # (cache resets) and on signalkit's bookkeeping; muted, the caches would
        # keep the overridden values after the block.
        self.sparing_ids: frozenset[int] = (
            _SETTING_CHANGED
            if self.keys is None
            and self.signal_ids is not None
            and self.signal_ids >= _SETTING_CHANGED
            else frozenset()
        )
        # Signals this mute silences for every sender and every receiver.
        self.silenced_ids = (
            self.signal_ids - self.sparing_ids
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
        if self._label_pending:
            self._resolve_pending_label()
        return sender_matches(sender, self.sender, self.sender_label)

    def _resolve_pending_label(self) -> None:
        if not apps.models_ready:
            return
        self._label_pending = False
        # Never raise from a send: an unknown label stays a plain string.
        with suppress(ValueError):
            self.sender_label = model_label(self.sender)

    def silences(self, key: str, signal_id: int | None = None) -> bool:
        """Whether this mute silences the receiver ``key`` (of the signal ``signal_id``)."""
        if self.keys is not None:
            return key in self.keys
        if self.catch_all or signal_id in self.sparing_ids:
            return not is_spared(key)
        return True


def silenced_keys(
    mutes: Iterable[Mute], signal_id: int | None = None
) -> tuple[frozenset[str], bool] | None:
    """What ``mutes`` silence together (of the signal ``signal_id``), as
    :meth:`Mute.silences` says one by one: the receiver keys they name and
    whether one is a catch-all there (which silences every key but the spared
    ones); ``None`` when one silences every receiver."""
    named: frozenset[str] = frozenset()
    catch_all = False
    for mute in mutes:
        if mute.keys is not None:
            named = named | mute.keys if named else mute.keys
        elif mute.catch_all or signal_id in mute.sparing_ids:
            catch_all = True
        else:
            return None
    return named, catch_all


def _several_senders(sender: Any) -> str:
    # A collection would be matched as one sender, by identity: no model signal
    # is ever sent from it, so the mute would silence nothing.
    return (
        "mute_signals(sender=...) takes one sender, a class or a model label such as "
        f"'blog.Post', not the {type(sender).__name__} {sender!r}. To mute the sends of "
        "several senders, enter one mute_signals(..., sender=...) per sender."
    )


def _not_a_receiver(item: Any) -> str:
    # Something that is no receiver would stand for the key of its class, which
    # no receiver has: the mute would silence nothing.
    if isinstance(item, Signal):
        return (
            f"receivers takes receivers or their keys, not the signal {item!r}: to mute a "
            "signal, pass it first, as in mute_signals(post_save)."
        )
    return (
        f"receivers takes receivers (callables) or their keys (strings such as "
        f"'blog.signals.notify_followers'), not {item!r}."
    )


def resolve_signal(signal: Signal | str) -> Signal:
    """``signal``, or the signal its dotted path names, or its short name as
    ``listsignals`` lists it (``"post_save"``) when no other signal has that name."""
    if isinstance(signal, Signal):
        return signal
    if isinstance(signal, str):
        try:
            resolved = import_string(signal)
        except ImportError as exc:
            return _listed(signal, exc)
        if isinstance(resolved, Signal):
            return resolved
        raise ValueError(f"{signal!r} is {resolved!r}, not a signal.")
    raise TypeError(f"{signal!r} is not a signal or the dotted path of one.")


def _resolve_muted(signal: Signal | str) -> Signal:
    """:func:`resolve_signal`, whose error says where a receiver or a sender
    passed where signals go belongs: ``mute_signals(notify)`` for
    ``receivers=notify``, ``mute_signals(Post)`` for ``sender=Post``."""
    try:
        return resolve_signal(signal)
    except (TypeError, ValueError) as exc:
        found: Any = signal
        if isinstance(signal, str):  # only from a module imported already
            module, _, name = signal.rpartition(".")
            found = getattr(sys.modules.get(module), name, None)
        if isinstance(found, type):
            hint = " To mute the sends of a sender, give it as mute_signals(sender=...)."
        elif callable(found):
            hint = " To mute a receiver, give it (or its key) as mute_signals(receivers=...)."
        else:
            raise
        raise type(exc)(f"{exc}{hint}") from None


def _listed(name: str, error: ImportError) -> Signal:
    # A short name, or a path the registry knows another way (a class attribute).
    from signalkit.registry import registry

    try:
        # (import_string has just tried the import: no second try, which would
        # run a failing module's top-level code again.)
        info = registry._get(name, import_owner=False)
    except LookupError as exc:
        raise ValueError(
            f"{name!r} is not the dotted path of a signal, such as "
            f"'django.db.models.signals.post_save', nor the short name of one: "
            f"{exc.args[0]} (Importing it: {error})"
        ) from error
    # (None: a built-in signal whose module is not imported yet.)
    found = info.signal if info.signal is not None else import_string(info.path)
    if not isinstance(found, Signal):
        raise ValueError(f"{name!r} is {found!r}, not a signal.")
    return found


def model_label(label: str) -> str:
    """``label`` as the canonical ``"app_label.Model"`` of the model it names.

    The model name is matched case-insensitively, as :meth:`~django.apps.apps.get_model`
    does. A string that does not start with an installed app's label is a plain
    string sender and comes back as it is; an installed app's label followed by
    a name that is none of its models raises :exc:`ValueError`.
    """
    app_label, dot, model_name = label.partition(".")
    if not dot or "." in model_name:
        return label
    try:
        config = apps.get_app_config(app_label)
    except LookupError:
        return label
    try:
        return config.get_model(model_name)._meta.label
    except LookupError:
        from signalkit.registry import close_matches

        labels = [model._meta.label for model in config.get_models()]
        raise ValueError(
            f"sender is {label!r}, but the {app_label!r} app has no model {model_name!r}; "
            f"use 'app_label.ModelName' of an installed model.{close_matches(label, labels)}"
        ) from None


def sender_label(sender: Any) -> str | None:
    """``"app_label.Model"`` of a model class (or the label given as a string)."""
    if isinstance(sender, str):
        return sender
    meta = getattr(sender, "_meta", None) if isinstance(sender, type) else None
    label = getattr(meta, "label", None)
    return label if isinstance(label, str) else None


def sender_matches(actual: Any, expected: Any, label: str | None) -> bool:
    """Whether a send from ``actual`` counts as one from ``expected``: the same
    object, the same string, or a model labelled ``label`` (``expected``'s
    canonical model label, if it names a model)."""
    if actual is expected or (type(actual) is str and actual == expected):
        return True
    return label is not None and sender_label(actual) == label
