"""The signal registry: every signal of the process and every receiver connected to it.

``registry.signals()`` lists Django's signals (from :mod:`signalkit.catalog`),
every :class:`signalkit.Signal`, and any other signal bound in a loaded module.
``registry.receivers()`` reads ``Signal.receivers`` through
:mod:`signalkit.entries`. The registry keeps only weak references.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.db.models import Model
from django.dispatch import Signal as DjangoSignal

from signalkit import paths
from signalkit.catalog import builtin_signals, loaded_signal
from signalkit.describe import Describer
from signalkit.dispatch import Signal, defined_signals
from signalkit.entries import Entry, make_id, read_entries
from signalkit.infos import ReceiverInfo, SignalInfo
from signalkit.labels import close_matches, unknown_app_hint
from signalkit.scan import SignalScan, find_by_id, name_in_module
from signalkit.senders import SenderIndex, pending_connections

__all__ = [
    "ReceiverInfo",
    "Registry",
    "SignalInfo",
    "check_sender",
    "close_matches",
    "registry",
    "resolve_app",
    "resolve_model",
]


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
            others.append(defined_info(defined))
        for signal, module, name in self._scan.bindings():
            if id(signal) not in seen:
                seen.add(id(signal))
                if isinstance(signal, Signal):
                    # One replaced under its path (its module run again by
                    # importlib.reload()) and still held by an importer: listed
                    # under its own path, which names the live one.
                    others.append(defined_info(signal))
                else:
                    others.append(SignalInfo(name, f"{module}.{name}", signal, False, (), ""))
        return infos + sorted(others, key=lambda info: info.path)

    def get(self, name_or_path: str) -> SignalInfo:
        """The signal with this dotted path or short name; ``LookupError`` if none,
        or if several signals have that short name (the error lists their paths)."""
        return self._get(name_or_path, import_owner=True)

    def _get(self, name_or_path: str, *, import_owner: bool) -> SignalInfo:
        if not isinstance(name_or_path, str):
            raise TypeError(
                f"A signal is looked up by its name or dotted path, a string, not {name_or_path!r}."
            )
        infos = self.signals()
        found = live([info for info in infos if info.path == name_or_path])
        if len(found) == 1:
            return found[0]
        if found:
            raise _same_path(name_or_path)
        named = [info for info in infos if info.name == name_or_path]
        if len({info.path for info in named}) == 1:
            named = live(named)
        if len(named) == 1:
            return named[0]
        if len({info.path for info in named}) == 1:
            raise _same_path(named[0].path)
        if named:
            candidates = ", ".join(dict.fromkeys(info.path for info in named))
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
            return defined_info(signal)
        path = f"<signal {id(signal):#x}>"
        return SignalInfo(path, path, signal, False, (), "")

    def receivers(
        self,
        signal: DjangoSignal | str | None = None,
        *,
        sender: type | AppConfig | str | None = None,
        app: str | None = None,
    ) -> list[ReceiverInfo]:
        """Receivers, grouped by signal in :meth:`signals` order; a signal's in the
        order ``send()`` calls them: the synchronous ones, then the async ones, each
        in connection order.

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
        builder = Describer()
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
        # Django's send() calls the sync receivers first, then the async ones.
        return sorted(found, key=lambda r: (order[id(r.signal)], r.is_async))


def live(infos: list[SignalInfo]) -> list[SignalInfo]:
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


def defined_info(signal: Signal) -> SignalInfo:
    path = signal.path
    return SignalInfo(
        signal.name or path.rpartition(".")[2], path, signal, False, signal.args, signal.doc
    )


def resolve_model(sender: type | AppConfig | str) -> type | AppConfig:
    """A model class from itself or its ``"app_label.Model"`` label; any other
    class, or an app config (the sender of ``pre_migrate`` and ``post_migrate``),
    as it is. Anything else is a ``TypeError``: no receiver would match it but
    those connected for any sender."""
    check_sender(sender)
    if not isinstance(sender, str):
        return sender
    try:
        return apps.get_model(sender)
    except (LookupError, ValueError):
        labels = [model._meta.label for model in apps.get_models()]
        raise LookupError(
            f"Unknown model {sender!r}; use 'app_label.ModelName'.{close_matches(sender, labels)}"
        ) from None


def check_sender(sender: object) -> None:
    """``TypeError`` unless ``sender`` is a class, an app config or a string."""
    if not isinstance(sender, type | AppConfig | str):
        raise TypeError(_not_a_sender(sender))


def _not_a_sender(sender: Any) -> str:
    if isinstance(sender, Model):
        # Model signals are sent by the class: an instance is the "instance" argument.
        label = sender._meta.label
        # (Not its repr: a model's __str__ may query, or fail.)
        return (
            f"sender is an instance of {label}; model signals are sent by the model "
            f"class: use {type(sender).__name__} or {label!r}."
        )
    return (
        "sender must be a model (or another class), its 'app_label.Model' label, or an "
        f"app config, not {sender!r}."
    )


def resolve_app(label: str) -> str:
    """The module name of the installed app ``label``."""
    if not isinstance(label, str):
        raise TypeError(f"app must be an app label (a string), not {label!r}.")
    try:
        return apps.get_app_config(label).name
    except LookupError:
        raise LookupError(f"Unknown app label {label!r}.{unknown_app_hint(label)}") from None


#: The registry of this process.
registry = Registry()
