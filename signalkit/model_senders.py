"""A model instance given as the sender of one of Django's own signals.

Django sends its signals from a class (the model, the through model of a
many-to-many relation, the user's class, a handler class...), an app config
or a string, never from a model instance: ``post_save`` is sent with
``sender=Post`` and ``instance=post``. A mute or an assertion that takes the
instance for the sender would match no send, silently:
``mute_signals(post_save, sender=post)`` would mute nothing, and
``assert_not_sent(post_save, sender=post)`` would pass whatever was sent.
Custom signals may be sent from anything, instances too: they are never refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signalkit.catalog import builtin_signals, loaded_signal

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.db.models import Model
    from django.dispatch import Signal

    from signalkit.catalog import BuiltinSignal

__all__ = ["check_instance_sender"]

# The catalog's words for the senders that an instance's class stands for.
_CLASSES = ("the model class", "the user's class")


def check_instance_sender(signals: Iterable[Signal], sender: Any, effect: str) -> None:
    """Raise :exc:`TypeError` if ``sender`` is a model instance and one of
    ``signals`` is one of Django's, whose sends it would never match; ``effect``
    says what that would do (``"the mute would silence none of its sends"``)."""
    if sender is None or isinstance(sender, str | type):  # (the usual senders, at once)
        return
    from django.db.models import Model

    if not isinstance(sender, Model):
        return
    for signal in signals:
        entry = _builtin(signal)
        if entry is not None:
            raise TypeError(_message(entry, sender, effect))


def _builtin(signal: Signal) -> BuiltinSignal | None:
    for entry in builtin_signals():
        if loaded_signal(entry) is signal:
            return entry
    return None


def _message(entry: BuiltinSignal, sender: Model, effect: str) -> str:
    cls = type(sender)
    # (Not its repr: a model's __str__ may query, or fail.)
    label = cls._meta.label
    if entry.sender in _CLASSES:
        fix = f"Pass the class instead, type(obj): sender={cls.__name__} or sender={label!r}."
    elif entry.sender == "the AppConfig":
        fix = f"Pass the app config: sender=apps.get_app_config({cls._meta.app_label!r})."
    elif entry.path.endswith(".m2m_changed"):
        fix = f"Pass the intermediate model of the relation{_through_models(cls)}."
    else:
        fix = f"Pass {entry.sender}."
    return (
        f"sender is an instance of {label}, but {entry.path} is sent with "
        f"{entry.sender} as its sender, never with an instance: {effect}. {fix}"
    )


def _through_models(cls: type[Model]) -> str:
    """``: sender=Post.tags.through`` (the relations of ``cls``, either side),
    or ``, sender=Model.field.through``."""
    forward = [f"{cls.__name__}.{field.name}.through" for field in cls._meta.many_to_many]
    reverse = [
        f"{relation.related_model.__name__}.{relation.field.name}.through"
        for relation in cls._meta.related_objects
        if relation.many_to_many
    ]
    found = sorted(set(forward + reverse))
    if not found:
        return ", sender=Model.field.through"
    return ": " + " or ".join(f"sender={through}" for through in found)
