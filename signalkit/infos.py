"""What the registry tells about a signal and about a receiver: :class:`SignalInfo`
and :class:`ReceiverInfo` (importable from :mod:`signalkit.registry` too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Hashable

    from django.dispatch import Signal as DjangoSignal

__all__ = ["ReceiverInfo", "SignalInfo"]


@dataclass(frozen=True)
class SignalInfo:
    """A signal and what is known about it."""

    name: str  # short name, e.g. "post_save"
    path: str  # canonical dotted path
    signal: DjangoSignal | None  # None: a Django signal whose module is not imported
    builtin: bool
    args: tuple[str, ...]
    doc: str


@dataclass(frozen=True)
class ReceiverInfo:
    """One receiver connected to a signal."""

    signal: SignalInfo
    key: str  # the toggle key
    module: str | None
    qualname: str | None
    sender: str | None  # "app_label.Model", a class path, a string; None for any sender
    dispatch_uid: Hashable | None
    weak: bool
    is_async: bool
    dead: bool
    enabled: bool
    location: str | None  # "path/to/file.py:LINE"
    on_commit: bool
    offload: bool
