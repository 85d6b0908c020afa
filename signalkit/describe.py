"""A receiver as the registry lists it: its key, names, flags and where it is
defined, relative to the current directory or to its import path entry."""

from __future__ import annotations

import dataclasses
import os
import sys
from types import BuiltinFunctionType, FunctionType
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction

from signalkit import keys
from signalkit.conf import get_settings
from signalkit.infos import ReceiverInfo
from signalkit.receivers import DeferredReceiver

if TYPE_CHECKING:
    from collections.abc import Hashable

    from signalkit.entries import Entry
    from signalkit.infos import SignalInfo

__all__ = ["Describer"]


class Describer:
    """Turns connected (or pending) receivers into :class:`ReceiverInfo`, with
    the toggles and paths of one listing."""

    def __init__(self) -> None:
        self.disabled = get_settings().disabled_receivers
        self.cwd_prefix = os.path.join(os.getcwd(), "")
        # Files outside the current directory are shown relative to the import
        # path entry they were found on (``django/db/__init__.py``), not as
        # machine-specific absolute paths.
        self.import_prefixes = sorted(
            {os.path.join(os.path.abspath(entry), "") for entry in sys.path if entry},
            key=len,
            reverse=True,
        )
        self.paths: dict[str, str] = {}

    def from_entry(self, info: SignalInfo, entry: Entry, sender: str | None) -> ReceiverInfo:
        if not entry.readable:
            return ReceiverInfo(
                info, f"<unreadable entry {entry.raw!r:.60}>", None, None, None, None,
                False, False, False, True, None, False, False,
            )  # fmt: skip
        described = self._describe(
            info, entry.receiver, sender, entry.dispatch_uid, entry.weak, entry.is_async
        )
        if entry.dead and not described.dead:  # (its sender was collected)
            return dataclasses.replace(described, dead=True)
        return described

    def from_pending(self, info: SignalInfo, pending: Any) -> ReceiverInfo:
        receiver = pending.receiver
        # As Django will tell when it connects it (signalkit's async wrappers are
        # marked as coroutine functions).
        is_async = iscoroutinefunction(receiver)
        return self._describe(
            info, receiver, pending.sender, pending.dispatch_uid, pending.weak, is_async
        )

    def _describe(
        self,
        info: SignalInfo,
        receiver: Any,
        sender: str | None,
        uid: Hashable | None,
        weak: bool,
        is_async: bool,
    ) -> ReceiverInfo:
        deferred = isinstance(receiver, DeferredReceiver)
        dead = receiver is None or (deferred and receiver.__wrapped__ is None)
        if receiver is None:
            return ReceiverInfo(
                info, "<dead receiver>", None, None, sender, uid, weak, is_async,
                True, True, None, False, False,
            )  # fmt: skip
        key = keys.receiver_key(receiver)
        module, qualname = _names(keys.unwrap(receiver))
        return ReceiverInfo(
            signal=info,
            key=key,
            module=module,
            qualname=qualname,
            sender=sender,
            dispatch_uid=uid,
            weak=weak,
            is_async=is_async,
            dead=dead,
            enabled=key not in self.disabled,
            location=None if dead else self.location(receiver),
            on_commit=deferred and receiver.on_commit,
            offload=deferred and receiver.offload,
        )

    def location(self, receiver: Any) -> str | None:
        """``"path/to/file.py:LINE"`` of the code that runs for ``receiver``, if known."""
        where = keys.location(receiver)
        return None if where is None else f"{self._relative(where[0])}:{where[1]}"

    def _relative(self, filename: str) -> str:
        relative = self.paths.get(filename)
        if relative is None:
            relative = filename
            if filename.startswith(self.cwd_prefix):
                relative = filename[len(self.cwd_prefix) :]
            else:
                for prefix in self.import_prefixes:
                    if filename.startswith(prefix):
                        relative = filename[len(prefix) :]
                        break
            self.paths[filename] = relative
        return relative


def _names(target: Any) -> tuple[str | None, str | None]:
    if isinstance(target, DeferredReceiver):  # its function died
        return None, None
    if not isinstance(target, FunctionType | BuiltinFunctionType | type):
        target = type(target)  # a callable instance
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None)
    # (An object may pass for a function, as a mock with a spec does, and
    # answer anything: only strings are names.)
    return (
        module if isinstance(module, str) else None,
        qualname if isinstance(qualname, str) else None,
    )
