"""``signalkit.receiver``: a drop-in for ``django.dispatch.receiver``.

A plain receiver is connected exactly as Django would connect it (so it costs
nothing more at send time). A receiver with ``on_commit=True`` or
``offload=True`` is connected through a :class:`DeferredReceiver` that defers the
call; the wrapper is connected under the function's own lookup key, so
``signal.disconnect(func, sender=...)`` keeps working.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Sequence
from types import MethodType
from typing import TYPE_CHECKING, Any, TypeVar

from asgiref.sync import iscoroutinefunction
from django.dispatch import Signal as DjangoSignal

from signalkit import keys
from signalkit.deferred import AsyncDeferredReceiver, DeferredReceiver
from signalkit.entries import make_id
from signalkit.taken import warn_if_taken

if TYPE_CHECKING:
    from django.dispatch import Signal

__all__ = ["AsyncDeferredReceiver", "DeferredReceiver", "connect", "receiver"]

F = TypeVar("F", bound=Callable[..., Any])

# id(function, or object for bound methods) -> its deferred wrappers, alive exactly
# as long as it is: a weakly connected wrapper lives that long too. By identity,
# not equality: equal objects (model instances with one pk) are different
# receivers, and unhashable objects connect weakly as they do with Django.
_wrappers: dict[int, dict[Any, DeferredReceiver]] = {}


def connect(
    signal: Signal,
    func: Any,
    *,
    sender: Any = None,
    dispatch_uid: Any = None,
    weak: bool = True,
    name: str | None = None,
    on_commit: bool = False,
    offload: bool = False,
) -> None:
    """Connect ``func`` to ``signal`` as :func:`receiver` does."""
    # As flags (on_commit="yes" is on): listed as booleans, compared as such.
    on_commit, offload = bool(on_commit), bool(offload)
    if name is not None:
        _check_name(name)
        keys.set_key(func, name)
        # (Connected offloaded before, by an @receiver below this one: its tasks
        # name it by the new key now.)
        from signalkit.offload import targets

        targets.rekey()
    # A falsy dispatch_uid ("", 0) is no uid to Django: the function's id, as there.
    uid = dispatch_uid if dispatch_uid else make_id(func)
    taken = warn_if_taken(signal, func, uid, sender, (on_commit, offload))
    if not (on_commit or offload):
        signal.connect(func, **_arguments(signal, sender, weak, dispatch_uid))
        return
    if offload:
        from signalkit.offload import compat, refusals, targets

        compat.require_tasks()
        refusals.check_offloadable(signal, func)
    bound = isinstance(func, MethodType)
    wrappers: dict[Any, DeferredReceiver] = {}  # weak=False: Django keeps the wrapper
    if weak:
        wrappers = _wrappers_of(func.__self__ if bound else func, func)
    # One wrapper per way the function is connected: a wrapper replaced here
    # would be dropped by the signals that hold it weakly. (The function is the
    # outer key already: the inner key must not hold it, or it never dies.) Not
    # per key: a wrapper's key follows its function's, name= given later too.
    kind = (func.__func__ if bound else None, on_commit, offload)
    wrapper = wrappers.get(kind)
    if wrapper is None:
        cls = AsyncDeferredReceiver if iscoroutinefunction(func) else DeferredReceiver
        wrapper = cls(func, weak=weak, on_commit=on_commit, offload=offload)
        wrappers[kind] = wrapper
    if offload and not taken:
        # (A connection Django ignores: the wrapper a task finds is the one held.
        # One connected with weak=False, which nothing else keeps, would be gone.)
        targets.register(signal, wrapper)
    # Under the function's own lookup key, so disconnect(func) finds the wrapper
    # (on another library's signal, when its connect() takes a dispatch_uid).
    given_uid = uid if _takes_uid(signal) else dispatch_uid
    signal.connect(wrapper, **_arguments(signal, sender, weak, given_uid))


def _arguments(signal: Any, sender: Any, weak: bool, dispatch_uid: Any) -> dict[str, Any]:
    """The keyword arguments of ``signal.connect()``: all of them for a Django
    signal; for another library's signal only those given, as
    ``django.dispatch.receiver`` passes them (its ``connect()`` may take fewer)."""
    if isinstance(signal, DjangoSignal):
        return {"sender": sender, "weak": weak, "dispatch_uid": dispatch_uid}
    given = {"sender": sender, "dispatch_uid": dispatch_uid}
    arguments = {name: value for name, value in given.items() if value is not None}
    if weak is not True:
        arguments["weak"] = weak
    return arguments


def _takes_uid(signal: Any) -> bool:
    """Whether ``signal.connect()`` takes a ``dispatch_uid`` (a deferred wrapper
    is connected under its function's, where it can be)."""
    if isinstance(signal, DjangoSignal):
        return True
    try:
        parameters = inspect.signature(signal.connect).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        parameter.name == "dispatch_uid" or parameter.kind is parameter.VAR_KEYWORD
        for parameter in parameters
    )


def _check_name(name: object) -> None:
    # Anything else would be ignored silently: the key would stay module.qualname.
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, not {name!r}.")


def _check_signals(given: object, signals: list[Any]) -> None:
    # Checked here: Django would fail deep inside connect() ("'str' object has
    # no attribute ..."). (An empty list connects nothing, as Django's does.)
    for signal in signals:
        if isinstance(signal, DjangoSignal) or (
            not isinstance(signal, type) and callable(getattr(signal, "connect", None))
        ):
            continue  # (another library's signal, duck-typed: Django connects it too)
        hint = ""
        if isinstance(signal, str):
            hint = " Import the signal object (signal names are for the registry, not connecting)."
        elif isinstance(signal, type) and issubclass(signal, DjangoSignal):
            hint = " Pass a signal instance, not its class."
        elif signal is given and hasattr(signal, "__iter__"):
            hint = " Several signals go in a list or tuple."
        raise TypeError(
            f"receiver() needs a django.dispatch.Signal or a list or tuple of them, "
            f"not {signal!r}.{hint}"
        )


def _check_receiver(func: object) -> None:
    if isinstance(func, staticmethod | classmethod):
        kind = type(func).__name__
        raise TypeError(
            f"receiver() cannot connect a {kind} object ({func.__func__.__qualname__}): "
            f"put @{kind} above @receiver"
            + (
                "."
                if kind == "staticmethod"
                else ", and connect the bound method (Class.method) once the class exists."
            )
        )
    if not callable(func):
        raise TypeError(f"receiver() can only connect a callable, not {func!r}.")


def _wrappers_of(owner: Any, func: Any) -> dict[Any, DeferredReceiver]:
    wrappers = _wrappers.get(id(owner))
    if wrappers is None:
        try:
            # Dropped as the owner dies, before its id can be reused; not at
            # interpreter exit, where atexit handlers may still send signals.
            weakref.finalize(owner, _wrappers.pop, id(owner), None).atexit = False
        except TypeError:
            raise TypeError(
                f"{keys.receiver_key(func)} cannot be connected weakly with on_commit or "
                "offload: its object cannot be weakly referenced. Connect it with weak=False."
            ) from None
        wrappers = _wrappers.setdefault(id(owner), {})
    return wrappers


def receiver(
    signal_or_list: Signal | Sequence[Signal],
    *,
    sender: Any = None,
    dispatch_uid: Any = None,
    weak: bool = True,
    name: str | None = None,
    on_commit: bool = False,
    offload: bool = False,
) -> Callable[[F], F]:
    """Connect the decorated function, like :func:`django.dispatch.receiver`.

    ``name`` sets its toggle key; ``on_commit=True`` calls it only after the
    sender's transaction (on the ``using`` database) commits; ``offload=True``
    runs it on the task queue.
    """
    if name is not None:
        _check_name(name)
    signals: list[Signal] = (
        list(signal_or_list) if isinstance(signal_or_list, list | tuple) else [signal_or_list]  # type: ignore[list-item]
    )
    _check_signals(signal_or_list, signals)

    def decorator(func: F) -> F:
        _check_receiver(func)
        for signal in signals:
            connect(
                signal,
                func,
                sender=sender,
                dispatch_uid=dispatch_uid,
                weak=weak,
                name=name,
                on_commit=on_commit,
                offload=offload,
            )
        return func

    return decorator
