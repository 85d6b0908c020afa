"""Receiver keys: the stable names that toggles, mutes and listsignals use.

The rules (documented in ``docs/receivers.rst``):

- a function or static method: ``module.qualname``;
- a bound method: ``module.Class.method`` (its function's key);
- a ``functools.partial``: the key of the function it wraps;
- a callable instance: ``module.Class`` of its class -- unless it wraps a
  callable (``__wrapped__``, as ``functools.cache`` and asgiref's
  ``sync_to_async`` set, or the function asgiref's ``async_to_sync`` keeps):
  then the key of what it wraps;
- a receiver given ``name=`` by :func:`signalkit.receiver` (or any object with a
  ``__signalkit_key__`` attribute, such as signalkit's deferred receivers): that name.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from types import BuiltinFunctionType, CodeType, FunctionType, MethodType
from typing import Any

#: The attribute through which a receiver names its own key.
KEY_ATTRIBUTE = "__signalkit_key__"

#: Keys of receivers that Django itself connects start with one of these. The
#: ``django_tasks`` package backports ``django.tasks`` (Django 6.0+) to Django
#: 5.2: its receivers (one resets the task backends on ``setting_changed``, so
#: that ``override_settings(TASKS=...)`` works) are Django's own from 6.0 on,
#: and are treated as Django's on every version.
DJANGO_PREFIXES = ("django.", "django_tasks.")

#: signalkit's own bookkeeping receivers; never muted by a catch-all mute.
BOOKKEEPING_PREFIXES = (
    "signalkit.conf.",
    "signalkit.gate.",
    "signalkit.testing.",
    "signalkit.audit._",
)

#: Receivers a catch-all mute spares too, though ``listsignals`` shows them: the
#: audit log's. Muted, it would miss changes and keep stale snapshots, so the
#: next events would record wrong old values; a mute that names its receivers or
#: signals still stops it.
SPARED_PREFIXES = ("signalkit.audit.",)

_PROTECTED = DJANGO_PREFIXES + BOOKKEEPING_PREFIXES
_SPARED = _PROTECTED + SPARED_PREFIXES

# id(target) -> key, evicted by a weakref callback when the target dies, so an
# id is never reused while its entry exists. Emptied whenever a name is given:
# the key of a wrapper (a partial, a deferred receiver) is its function's, so
# more than the named function's entry may change.
_cache: dict[int, str] = {}
# The ids that have that callback already: one per object, however often the
# cache is emptied.
_watched: set[int] = set()

#: Incremented whenever a key may have changed (a name given, a key forgotten):
#: caches of keys elsewhere compare it with the value they were built at.
generation = 0

#: Every name given with ``name=`` so far: keys that name a receiver though they
#: are no ``module.qualname`` (see :mod:`signalkit.keycheck`).
given_names: set[str] = set()

_MISSING = object()

# Wrapper classes that keep what they wrap under another name than
# ``__wrapped__``: asgiref's async_to_sync() (sync_to_async sets __wrapped__).
_WRAPPED_AS = {("asgiref.sync", "AsyncToSync"): "awaitable"}


def _wrapped(obj: Any) -> Any:
    """What the wrapper object ``obj`` wraps (``__wrapped__``, or the attribute
    its class keeps it in), else ``None``."""
    target = _own_attribute(obj, "__wrapped__")
    if target is None:
        cls = type(obj)
        name = _WRAPPED_AS.get((cls.__module__, cls.__qualname__))
        if name is not None:
            target = _own_attribute(obj, name)
    return target


def unwrap(receiver: Any) -> Any:
    """The callable whose code runs: through bound methods, partials, deferred
    receivers and ``__wrapped__`` chains."""
    seen = 0
    while seen < 100:
        seen += 1
        if isinstance(receiver, MethodType):
            receiver = receiver.__func__
        elif isinstance(receiver, functools.partial):
            receiver = receiver.func
        elif isinstance(receiver, FunctionType | BuiltinFunctionType):
            unwrapped = inspect.unwrap(receiver)
            if unwrapped is receiver:
                return receiver
            receiver = unwrapped
        else:
            target = _wrapped(receiver)
            if target is None:
                return receiver
            receiver = target
    return receiver


def _own_attribute(obj: Any, name: str) -> Any:
    # Only plain attribute lookups on ordinary objects: never trigger a lazy
    # object's evaluation or a __getattr__ hook.
    if isinstance(obj, type):
        return None
    if type(obj) is FunctionType:  # the common case, and plain: its own __dict__
        return obj.__dict__.get(name)
    try:
        # By identity: the truth of what is found (a lazy object) would evaluate it.
        if inspect.getattr_static(obj, name, _MISSING) is _MISSING:
            return None
        return getattr(obj, name, None)
    except Exception:
        return None


def compute_key(receiver: Any, depth: int = 0) -> str:
    """The key of ``receiver`` (uncached)."""
    if isinstance(receiver, type):
        # A class connected itself: a name= given to it (set on the class), not
        # one a base class was given (a subclass is another receiver).
        named = vars(receiver).get(KEY_ATTRIBUTE)
    else:
        named = _own_attribute(receiver, KEY_ATTRIBUTE)
    if isinstance(named, str):
        return named
    if depth > 100:  # (a cycle of wrappers)
        depth = -1
    elif isinstance(receiver, MethodType):
        return compute_key(receiver.__func__, depth + 1)
    elif isinstance(receiver, functools.partial):
        return compute_key(receiver.func, depth + 1)
    if isinstance(receiver, FunctionType | BuiltinFunctionType | type):
        module = getattr(receiver, "__module__", None) or "?"
        qualname = getattr(receiver, "__qualname__", None) or getattr(receiver, "__name__", "?")
        return f"{module}.{qualname}"
    wrapped = _wrapped(receiver) if depth >= 0 else None
    if wrapped is not None and wrapped is not receiver and callable(wrapped):
        # A decorator's wrapper object (functools.cache, asgiref's
        # sync_to_async and async_to_sync): the key of what it wraps, as for a
        # partial. Its class would give every receiver wrapped that way one key.
        return compute_key(wrapped, depth + 1)
    cls = type(receiver)
    return f"{cls.__module__}.{cls.__qualname__}"


def receiver_key(receiver: Any) -> str:
    """The key of ``receiver``, cached per underlying function or object."""
    target = receiver.__func__ if type(receiver) is MethodType else receiver
    key = _cache.get(id(target))
    if key is not None:
        return key
    key = compute_key(target)
    ident = id(target)
    if ident not in _watched:
        try:
            weakref.finalize(target, _drop, ident)
        except TypeError:
            return key  # not weak-referenceable: never cached
        _watched.add(ident)
    _cache[ident] = key
    return key


def _drop(ident: int) -> None:
    _cache.pop(ident, None)
    _watched.discard(ident)


def forget(receiver: Any) -> None:
    """Drop the cached key of ``receiver`` (after its name changed), and those of
    the receivers whose key is derived from it (partials and wrappers of it)."""
    global generation
    _cache.clear()
    generation += 1


def set_key(func: Any, name: str) -> None:
    """Give ``func`` an explicit key (``signalkit.receiver(name=...)``).

    A bound method's key is its function's (a bound method takes no attributes),
    so the name applies to that method of every instance.
    """
    target = func.__func__ if isinstance(func, MethodType) else func
    try:
        setattr(target, KEY_ATTRIBUTE, name)
    except (AttributeError, TypeError):
        raise TypeError(
            f"name={name!r} cannot be given to {func!r}: it takes no attributes. Connect "
            "a function, a method or an object with a __dict__ instead."
        ) from None
    given_names.add(name)
    forget(target)


def is_djangos(key: str) -> bool:
    """Whether ``key`` is the key of a receiver that Django itself connects."""
    return key.startswith(DJANGO_PREFIXES)


def is_bookkeeping(key: str) -> bool:
    """Whether ``key`` is one of signalkit's own bookkeeping receivers, which no
    toggle switches off (signalkit.W003)."""
    return key.startswith(BOOKKEEPING_PREFIXES)


def is_protected(key: str) -> bool:
    """Receivers that ``listsignals`` hides by default and a catch-all mute spares:
    Django's own and signalkit's bookkeeping."""
    return key.startswith(_PROTECTED)


def is_spared(key: str) -> bool:
    """Receivers that a catch-all mute spares: the protected ones and the audit log's."""
    return key.startswith(_SPARED)


def location(receiver: Any) -> tuple[str, int] | None:
    """``(filename, first line)`` of the code that runs for ``receiver``, if known."""
    target = unwrap(receiver)
    # Only a real code object (by type: a mock passes isinstance): a callable
    # whose attributes are dynamic (a ``__getattr__`` hook, a mock) may answer
    # ``__code__`` with anything.
    try:
        code = getattr(target, "__code__", None)
    except Exception:
        code = None
    if type(code) is not CodeType and type(target) is not FunctionType:
        if issubclass(type(target), type):
            # A class connected itself: each send calls it, which runs its __init__.
            call = inspect.getattr_static(target, "__init__", None)
        else:
            call = inspect.getattr_static(type(target), "__call__", None)
        code = getattr(call, "__code__", None)
    if type(code) is not CodeType:
        return None
    return code.co_filename, code.co_firstlineno
