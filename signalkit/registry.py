"""The signal registry: every signal of the process and every receiver connected to it.

``registry.signals()`` lists Django's signals (from :mod:`signalkit.catalog`),
every :class:`signalkit.Signal`, and any other signal bound in a loaded module.
``registry.receivers()`` reads ``Signal.receivers`` through
:mod:`signalkit.entries`. The registry keeps only weak references.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass
from types import BuiltinFunctionType, FunctionType
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction
from django.apps import apps
from django.dispatch import Signal as DjangoSignal

from signalkit import keys, paths
from signalkit.catalog import builtin_signals, loaded_signal
from signalkit.conf import get_settings
from signalkit.dispatch import Signal, defined_signals
from signalkit.entries import Entry, make_id, read_entries
from signalkit.receivers import DeferredReceiver
from signalkit.scan import SignalScan, find_by_id, name_in_module
from signalkit.senders import SenderIndex, pending_connections

if TYPE_CHECKING:
    from collections.abc import Hashable

    from django.db.models import Model


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


def close_matches(word: str, choices: list[str]) -> str:
    """``" Did you mean 'a', 'b'?"`` or an empty string."""
    matches = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not matches:
        return ""
    return f" Did you mean {', '.join(map(repr, matches))}?"


class Registry:
    """Introspection of signals and receivers; use the :data:`registry` instance."""

    def __init__(self) -> None:
        self._scan = SignalScan()

    def clear_cache(self) -> None:
        """Rescan loaded modules on the next call (they are rescanned anyway
        whenever a module is imported)."""
        self._scan.clear()

    def signals(self) -> list[SignalInfo]:
        """Django's signals in catalog order, then every other signal by path."""
        infos = []
        seen = set()
        for entry in builtin_signals():
            signal = loaded_signal(entry)
            seen.add(id(signal))
            infos.append(
                SignalInfo(entry.name, entry.path, signal, True, entry.args, entry.description)
            )
        others = []
        for defined in defined_signals():
            seen.add(id(defined))
            # (Its path names an unnamed one after the variable or class
            # attribute that holds it in its module, as the scan names others.)
            others.append(_defined_info(defined))
        for signal, module, name in self._scan.bindings():
            if id(signal) not in seen:
                seen.add(id(signal))
                others.append(SignalInfo(name, f"{module}.{name}", signal, False, (), ""))
        return infos + sorted(others, key=lambda info: info.path)

    def get(self, name_or_path: str) -> SignalInfo:
        """The signal with this dotted path or short name; ``LookupError`` if none."""
        return self._get(name_or_path, import_owner=True)

    def _get(self, name_or_path: str, *, import_owner: bool) -> SignalInfo:
        if not isinstance(name_or_path, str):
            raise TypeError(
                f"A signal is looked up by its name or dotted path, a string, not {name_or_path!r}."
            )
        infos = self.signals()
        found = _live([info for info in infos if info.path == name_or_path])
        if len(found) == 1:
            return found[0]
        if found:
            raise _same_path(name_or_path)
        named = [info for info in infos if info.name == name_or_path]
        if len({info.path for info in named}) == 1:
            named = _live(named)
        if len(named) == 1:
            return named[0]
        if len({info.path for info in named}) == 1:
            raise _same_path(named[0].path)
        if named:
            candidates = ", ".join(info.path for info in named)
            raise LookupError(f"{name_or_path!r} is ambiguous: use one of {candidates}.")
        why = ""
        if "." in name_or_path and all(name_or_path.split(".")):
            if import_owner:
                # A dotted path into a module nobody imported yet (autodiscovery
                # imports only signals.py): import it, as resolving the path would.
                failure = paths.import_owner(name_or_path)
                if failure:  # (names in other modules would be no help)
                    raise LookupError(f"Unknown signal {name_or_path!r}.{failure}")
            # A path to a signal by another name than its own (an alias, or a
            # signalkit.Signal named otherwise), or a module imported just now.
            signal, why = paths.follow(name_or_path)
            if signal is not None:
                return self.info(signal)
            infos = self.signals()
        choices = [info.name for info in infos] + [info.path for info in infos]
        raise LookupError(
            f"Unknown signal {name_or_path!r}.{why}{close_matches(name_or_path, choices)}"
        )

    def info(self, signal: DjangoSignal) -> SignalInfo:
        """The :class:`SignalInfo` of a signal object (described ad hoc if unknown)."""
        for info in self.signals():
            if info.signal is signal:
                return info
        if isinstance(signal, Signal):
            return _defined_info(signal)
        path = f"<signal {id(signal):#x}>"
        return SignalInfo(path, path, signal, False, (), "")

    def receivers(
        self,
        signal: DjangoSignal | str | None = None,
        *,
        sender: type[Model] | str | None = None,
        app: str | None = None,
    ) -> list[ReceiverInfo]:
        """Receivers, grouped by signal in :meth:`signals` order.

        ``sender`` keeps the receivers that run for that sender (connected for it
        or for any sender); ``app`` keeps those defined in that app's modules.
        """
        if signal is None:
            infos = [info for info in self.signals() if info.signal is not None]
        elif isinstance(signal, str):
            infos = [self.get(signal)]
        elif isinstance(signal, DjangoSignal):
            infos = [self.info(signal)]
        else:
            raise TypeError(
                f"signal must be a Signal, or the name or dotted path of one, not {signal!r}."
            )
        if app is not None and not isinstance(app, str):
            raise TypeError(f"app must be an app label (a string), not {app!r}.")
        sender_ids = None if sender is None else {make_id(resolve_model(sender)), make_id(None)}
        prefix = None if app is None else resolve_app(app)
        read: list[tuple[SignalInfo, Entry]] = []
        for info in infos:
            if info.signal is not None:
                read += [(info, entry) for entry in read_entries(info.signal)]
        index = SenderIndex()
        unknown = {e.sender_id for _, e in read if e.readable and not index.knows(e)}
        if unknown:  # look for them among module-level objects
            index = SenderIndex(find_by_id(unknown).values())
        builder = _Builder()
        found = [
            builder.from_entry(info, entry, index.label(entry))
            for info, entry in read
            if sender_ids is None or entry.sender_id in sender_ids
        ]
        if sender_ids is None:
            by_signal = {id(info.signal): info for info in infos}
            for pending in pending_connections():
                waiting = by_signal.get(id(pending.signal))
                if waiting is not None:
                    found.append(builder.from_pending(waiting, pending))
        if prefix is not None:
            # Not those of an app installed inside this one ("shop.payments" in
            # "shop"): they are that app's, as Django's get_containing_app_config() says.
            nested = [
                config.name
                for config in apps.get_app_configs()
                if _in_package(config.name, prefix) and config.name != prefix
            ]
            found = [
                r
                for r in found
                if r.module
                and _in_package(r.module, prefix)
                and not any(_in_package(r.module, inner) for inner in nested)
            ]
        order = {id(info): n for n, info in enumerate(infos)}
        return sorted(found, key=lambda r: order[id(r.signal)])


def _live(infos: list[SignalInfo]) -> list[SignalInfo]:
    """Of several signals sharing a path, those still bound in their module: a
    signal replaced there since (a reloaded module, a test's monkeypatch) may
    live on, held by importers or a reference cycle, under the path it had."""
    if len(infos) < 2:
        return infos
    live = []
    for info in infos:
        signal = info.signal
        module = signal.module if isinstance(signal, Signal) else info.path[: -len(info.name) - 1]
        if name_in_module(signal, module) is not None:
            live.append(info)
    return live or infos


def _same_path(path: str) -> LookupError:
    # Two signals created with one name in one module (a copy-paste slip): the
    # path cannot tell them apart, and picking one would show the other's receivers.
    return LookupError(
        f"{path!r} is the path of several signals: signals created with the same name "
        "in one module. Give each its own name."
    )


def _in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def _defined_info(signal: Signal) -> SignalInfo:
    path = signal.path
    return SignalInfo(
        signal.name or path.rpartition(".")[2], path, signal, False, signal.args, signal.doc
    )


def resolve_model(sender: type[Model] | str) -> type[Model]:
    """A model class from itself or its ``"app_label.Model"`` label."""
    if not isinstance(sender, str):
        return sender
    try:
        return apps.get_model(sender)
    except (LookupError, ValueError):
        labels = [model._meta.label for model in apps.get_models()]
        raise LookupError(
            f"Unknown model {sender!r}; use 'app_label.ModelName'.{close_matches(sender, labels)}"
        ) from None


def resolve_app(label: str) -> str:
    """The module name of the installed app ``label``."""
    try:
        return apps.get_app_config(label).name
    except LookupError:
        configs = apps.get_app_configs()
        named = next((config for config in configs if config.name == label), None)
        if named is not None:  # its module path, not its label
            hint = f" It is the module of the app labelled {named.label!r}: use that."
        else:
            hint = close_matches(label, [config.label for config in configs])
        raise LookupError(f"Unknown app label {label!r}.{hint}") from None


class _Builder:
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
        return self._describe(
            info, entry.receiver, sender, entry.dispatch_uid, entry.weak, entry.is_async
        )

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
        where = None if dead else keys.location(receiver)
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
            location=None if where is None else f"{self._relative(where[0])}:{where[1]}",
            on_commit=deferred and receiver.on_commit,
            offload=deferred and receiver.offload,
        )

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


#: The registry of this process.
registry = Registry()
