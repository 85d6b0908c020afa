"""System checks on connected receivers (IDs listed in ``docs/checks.rst``).

- ``signalkit.W002``: a ``SIGNALKIT["RECEIVERS"]`` key that matches no receiver;
- ``signalkit.W003``: a ``SIGNALKIT["RECEIVERS"]`` key of signalkit's bookkeeping;
- ``signalkit.W010``: one function connected twice to a signal for the same sender,
  to run the same way (at once, after the commit or on a worker);
- ``signalkit.W011``: a weak receiver defined in a local scope;
- ``signalkit.W012``: an object with an ``async def __call__`` connected as a receiver;
- ``signalkit.W013``: one function connected twice from a module imported under two names;
- ``signalkit.W014``: one function connected twice by a module executed again in place
  (``importlib.reload()``).
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from types import FunctionType, MethodType
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.checks import Tags, Warning, register

from signalkit.conf import get_settings
from signalkit.entries import make_id, read_entries
from signalkit.keycheck import close_keys, connected_keys
from signalkit.keys import BOOKKEEPING_PREFIXES, is_bookkeeping, is_djangos, receiver_key, unwrap
from signalkit.paths import loaded_longest
from signalkit.receiver_warnings import (
    Names,
    async_instance,
    imported_twice,
    local_receiver,
    reloaded,
    twice,
)
from signalkit.receivers import DeferredReceiver
from signalkit.registry import registry
from signalkit.scan import find_by_id

if TYPE_CHECKING:
    from django.apps import AppConfig
    from django.core.checks import CheckMessage


@register(Tags.signals)
def check_receivers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W010 to W014 for every connected receiver but Django's own."""
    messages: list[CheckMessage] = []
    local: list[tuple[Any, Any, str, str]] = []  # weak receivers defined in a local scope
    names = Names()
    for info in registry.signals():
        if info.signal is None:
            continue
        seen: dict[tuple[Any, Any, str], int] = defaultdict(int)
        # (file, line, sender) -> the first function found there, and its key
        defined: dict[tuple[str, int, Any], tuple[FunctionType, str]] = {}
        # (file, line, sender, way) -> the first function found there
        compiled: dict[tuple[str, int, Any, str], FunctionType] = {}
        for entry in read_entries(info.signal):
            receiver = entry.receiver
            if receiver is None:
                continue
            key = receiver_key(receiver)
            if is_djangos(key):
                continue
            target = receiver.__wrapped__ if isinstance(receiver, DeferredReceiver) else receiver
            if app_configs is not None and _app_of(unwrap(target)) not in app_configs:
                continue  # (manage.py check LABEL: only receivers defined in those apps)
            # Connected once to run at once and once after the commit (or on a
            # worker) is deliberate: only two connections that run alike are twice.
            way = (make_id(target), entry.sender_id, _mode(receiver))
            seen[way] += 1
            if seen[way] == 2:
                found = twice(key, names.location(receiver), info.path, way[2], names.sender(entry))
                messages.append(found)
            function = unwrap(target)
            if isinstance(function, FunctionType):
                code = function.__code__
                where = (code.co_filename, code.co_firstlineno, entry.sender_id)
                first = defined.setdefault(where, (function, key))
                # Functions of one factory share their module's globals; a module
                # imported under two names has two.
                if first[0] is not function and first[0].__globals__ is not function.__globals__:
                    messages.append(imported_twice(first[1], key, code, info.path))
                earlier = compiled.setdefault((*where, way[2]), function)
                if _compiled_again(earlier, function):
                    messages.append(reloaded(key, code, info.path))
            # (Not a bound method: its function lives as long as its class, which
            # its object keeps alive, so it lives exactly as long as that object.)
            if (
                entry.weak
                and not isinstance(target, MethodType)
                and "<locals>" in _qualname(receiver)
            ):
                local.append((receiver, target, key, info.path))
            # Through a deferred wrapper too: the commit would not await it either.
            if not entry.is_async and _async_call(target):
                messages.append(async_instance(key, info.path))
    # One bound at module level is kept alive there: a decorator's wrapper
    # (without functools.wraps) or a function a factory made for the module; a
    # deferred wrapper lives as long as its function. Not a partial or a
    # functools.wraps wrapper of a bound function: nothing keeps that one alive.
    bound = find_by_id({id(r) for r, _, _, _ in local} | {id(t) for _, t, _, _ in local})
    messages += [
        local_receiver(key, path)
        for receiver, target, key, path in local
        if id(receiver) not in bound and id(target) not in bound
    ]
    return messages


def _app_of(function: Any) -> AppConfig | None:
    """The installed app whose package holds the module defining ``function``."""
    module = getattr(function, "__module__", None)
    return apps.get_containing_app_config(module) if isinstance(module, str) else None


def _mode(receiver: Any) -> str:
    """How a connection runs its function: ``immediate``, ``on_commit`` or ``offload``."""
    if not isinstance(receiver, DeferredReceiver):
        return "immediate"
    return "offload" if receiver.offload else "on_commit"


def _compiled_again(first: FunctionType, second: FunctionType) -> bool:
    """Whether ``second`` is ``first`` defined again by its module's code run
    again in the same namespace (a reload): compiled anew from the same source,
    where the functions of a factory or a loop share one code object."""
    return (
        first is not second
        and first.__globals__ is second.__globals__
        and first.__code__ is not second.__code__
        and first.__code__ == second.__code__  # (the same source, to the column)
        and first.__code__.co_filename == second.__code__.co_filename
        and not first.__code__.co_filename.startswith("<")  # (exec() of a string)
    )


def _qualname(receiver: Any) -> str:
    target = unwrap(receiver)
    return str(target.__qualname__) if isinstance(target, FunctionType) else ""


def _async_call(receiver: Any) -> bool:
    if isinstance(receiver, FunctionType | MethodType | type):
        return False
    call = inspect.getattr_static(type(receiver), "__call__", None)
    return inspect.iscoroutinefunction(call)


@register(Tags.signals)
def check_receiver_toggles(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W002: toggle keys that match no connected receiver."""
    toggles = get_settings().receivers
    if not toggles:
        return []
    connected = sorted(connected_keys())
    messages: list[CheckMessage] = []
    for key in sorted(set(toggles) - set(connected)):
        if _bookkeeping_off(key, toggles[key]):
            continue  # (W003 says it: spelt right, it would have no effect either)
        matches = close_keys(key, connected)
        hint = (
            _not_imported(key)
            or (f"Did you mean {', '.join(map(repr, matches))}?" if matches else "")
            or "Run 'manage.py listsignals' to see the keys of connected receivers."
        )
        messages.append(
            Warning(
                f"SIGNALKIT['RECEIVERS'] has the key {key!r}, which matches no connected receiver.",
                hint=hint,
                id="signalkit.W002",
            )
        )
    return messages


@register(Tags.signals)
def check_bookkeeping_toggles(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W003: toggles cannot switch off signalkit's own bookkeeping receivers."""
    off = sorted(
        key for key, enabled in get_settings().receivers.items() if _bookkeeping_off(key, enabled)
    )
    if not off:
        return []
    connected = connected_keys()
    return [
        Warning(
            f"SIGNALKIT['RECEIVERS'] switches off {key!r}, "
            + (
                "a receiver signalkit keeps its own state with; it stays on."
                if key in connected
                else "which matches no connected receiver and is under "
                f"{_prefix(key)!r}, where signalkit's own bookkeeping receivers are: "
                "no toggle switches those off, so it has no effect."
            ),
            hint="Remove the key.",
            id="signalkit.W003",
        )
        for key in off
    ]


def _bookkeeping_off(key: str, enabled: bool) -> bool:
    """Whether the toggle ``key: enabled`` tries to switch off bookkeeping (W003)."""
    return not enabled and is_bookkeeping(key)


def _prefix(key: str) -> str:
    return next(prefix for prefix in BOOKKEEPING_PREFIXES if key.startswith(prefix))


def _not_imported(key: str) -> str:
    """Why no receiver has ``key`` when the module it names exists but was never
    imported (listsignals does not show its receivers either), else ``""``."""
    module = loaded_longest(key)[2]
    if not module:
        return ""
    conf = get_settings()
    config = apps.get_containing_app_config(module)
    if config is None:
        why = "it is in no installed app"
    elif not conf.autodiscover:
        why = "SIGNALKIT['AUTODISCOVER'] is False"
    elif config.label in conf.autodiscover_exclude:
        why = f"its app {config.label!r} is in SIGNALKIT['AUTODISCOVER_EXCLUDE']"
    elif module not in {f"{config.name}.{name}" for name in conf.autodiscover_modules}:
        why = "SIGNALKIT['AUTODISCOVER_MODULES'] does not name it"
    else:
        why = "nothing imported it"
    return (
        f"The module {module!r} is not imported ({why}), so none of its receivers is "
        "connected: import it, or remove the toggle."
    )
