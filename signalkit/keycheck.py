"""Receiver keys written by hand (a mute's ``receivers=``): can each name a receiver?

A key matches receivers by equality, so a misspelt one matches none: a mute given
``"blog.signals.notify_follwers"`` would silence nothing, without a word, and the
test would run with the receiver live. A key is accepted when a connected
receiver has it, when it was given with ``name=``, or when it is the
``module.qualname`` of a function or class that exists (a receiver connected
later, inside the muted block, counts: its function exists already).

Nothing is imported: importing would run a module's top-level code that the
test may never run (connecting other receivers, needing an optional dependency
or an app that these settings do not install). A key into a module that exists
but is not imported yet is not checked (:attr:`Problem.unloaded`).

A key is refused as the block starts (:class:`Problem` with ``final=True``) when
its path names something whose key is another (an alias, a module, a signal, a
method inherited from a base class). A key whose path names nothing, or whose
first part is no module, may be a ``name=`` still to be given, by a module the
code under test imports (``final=False``): the mute checks it again when its
block ends, and fails then.

Accepted keys are remembered for the process: mutes are entered per test,
thousands of times, and each key is looked at once.
"""

from __future__ import annotations

import difflib
import inspect
import sys
from types import CodeType, FunctionType, ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

from django.apps import apps
from django.dispatch import Signal

from signalkit import keys
from signalkit.paths import loaded_longest

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from signalkit.selectors import Mute

__all__ = ["check_ended", "check_started", "close_keys", "connected_keys"]

_accepted: set[str] = set()
# key -> (the module not imported yet, its Problem): looked for again only once
# that module is imported.
_unloaded: dict[str, tuple[str, Problem]] = {}


class Problem(NamedTuple):
    """Why a key names no receiver, as a clause. ``final``: no receiver defined
    or named later can have it (only one connected with that very key, which is
    looked for before refusing); otherwise the key is checked again later.
    ``unloaded``: the key's module is not imported, so nothing can be told (and
    nothing is refused)."""

    reason: str
    final: bool
    suggestions: tuple[str, ...] = ()  # keys the user may have meant
    unloaded: bool = False


def problem(key: str) -> Problem | None:
    """``None`` when ``key`` may name a receiver (remembered), else why not."""
    if key in _accepted:
        return None
    if not apps.ready:
        # (Reading the key's module now could find models half-loaded.)
        return Problem("the apps are not loaded yet", final=False)
    waiting = _unloaded.get(key)
    if waiting is not None and waiting[0] not in sys.modules:
        return waiting[1]
    found = None if key in keys.given_names else _follow(key)
    if found is not None and not found.unloaded and key in connected_keys():
        found = None
    if found is None:
        _accepted.add(key)
    return found


def check_started(mute: Mute) -> None:
    """Refuse a key of ``mute`` that cannot name a receiver, as its block starts;
    keep those that may yet (``mute.unchecked``) for :func:`check_ended`."""
    pending = []
    for key in mute.unchecked:
        found = problem(key)
        if found is None:
            continue
        if found.final:
            raise ValueError(describe(key, found))
        pending.append(key)
    mute.unchecked = tuple(pending)


def check_ended(mute: Mute, error: BaseException | None) -> None:
    """As the block of ``mute`` ends: fail for a key that named no receiver
    until then either, or add that to the ``error`` that ends the block (a test
    that failed because the receiver ran)."""
    if not apps.ready:
        return
    for key in mute.unchecked:
        found = problem(key)
        if found is None or found.unloaded:
            continue  # (not imported still: no receiver of it ran, muted or not)
        message = describe(key, found)
        if error is not None:
            error.add_note(message)
            return
        raise ValueError(message)
    mute.unchecked = ()


def describe(key: str, found: Problem) -> str:
    """The error message for a mute's ``key``, with the keys it may mean."""
    matches = found.suggestions or close_keys(key, sorted(connected_keys()))
    hint = f" Did you mean {', '.join(map(repr, matches))}?" if matches else ""
    return (
        f"mute_signals(receivers=...) has the receiver key {key!r}, which names no "
        f"receiver: {found.reason}.{hint} "
        "A key is the receiver's 'module.qualname' (or the name= it was connected with), "
        "as 'manage.py listsignals' shows it; or pass the receiver itself."
    )


def connected_keys() -> set[str]:
    """The keys of every connected receiver (those waiting for their model too)."""
    from signalkit.registry import registry

    return {info.key for info in registry.receivers()}


def close_keys(key: str, connected: list[str]) -> list[str]:
    """The connected keys ``key`` may be a typo of. Keys of its own module (or
    class) are compared by their last part: compared whole, the long prefix
    they share made every receiver of a module look close to any name in it."""
    container, _, name = key.rpartition(".")
    siblings: dict[str, str] = {}
    others: dict[str, list[str]] = {}  # last part -> keys of other modules
    for other in connected:
        parent, _, last = other.rpartition(".")
        if parent == container:
            siblings[last] = other
        else:
            others.setdefault(last, []).append(other)
    if siblings:
        found = difflib.get_close_matches(name, siblings, n=3, cutoff=0.6)
        if found:
            return [siblings[last] for last in found]
        # The module may be what is wrong (a receiver moved elsewhere): keys of
        # other modules whose own last part is close, the closest first (their
        # modules may share nothing with the old one).
        return _by_last_part(key, name, others)
    found = difflib.get_close_matches(key, connected, n=3, cutoff=0.6)
    if found or container:
        return found
    # A function's name alone ("notify_followers"): compared whole, it is too
    # short to look close to any key; the keys that end with it (or close) are.
    return _by_last_part(key, name, others)


def _by_last_part(key: str, name: str, others: Mapping[str, list[str]]) -> list[str]:
    """The keys whose last part is close to ``name``, the closest first (their
    modules may share nothing with the one ``key`` gives)."""
    return [
        other
        for last in difflib.get_close_matches(name, others, n=3, cutoff=0.6)
        for other in difflib.get_close_matches(key, others[last], n=3, cutoff=0)
    ][:3]


def _follow(key: str) -> Problem | None:
    """Follow ``key`` as ``module.qualname``: ``None`` if it names something whose
    key it is (or something that cannot be looked into)."""
    parts = key.split(".")
    if len(parts) < 2 or not all(parts):
        return Problem(f"{key!r} is not a dotted path 'module.qualname'", final=False)
    module, end, unloaded = loaded_longest(key)
    if unloaded:
        waiting = Problem(f"the module {unloaded!r} is not imported", final=False, unloaded=True)
        _unloaded[key] = (unloaded, waiting)
        return waiting
    if module is None:
        return Problem(f"no module named {parts[0]!r}", final=False)
    found: Any = module
    path = ".".join(parts[:end])
    for index in range(end, len(parts)):
        part = parts[index]
        if part == "<locals>":
            return _in_code(found, key, ".".join(parts[end:index]), ".".join(parts[end:]))
        try:
            found = inspect.getattr_static(found, part)
        except AttributeError:
            if part.startswith("<") or _has_getattr_hook(found):
                return None  # a lambda's name, a lazy module attribute: not checked
            kind = "module" if isinstance(found, ModuleType) else _kind(found)
            close = difflib.get_close_matches(part, _callables_in(found), n=3, cutoff=0.6)
            # Not final: a module the block imports may give it as a name=
            # ("shop.welcome_email", where shop is a package).
            return Problem(
                f"the {kind} {path!r} has no attribute {part!r}",
                final=False,
                suggestions=tuple(f"{path}.{name}" for name in close),
            )
        if isinstance(found, staticmethod | classmethod):
            found = found.__func__
        path = f"{path}.{part}"
    return _names_itself(found, key)


def _callables_in(container: Any) -> list[str]:
    """Names of the functions and classes a module or class holds (its bases' too)."""
    spaces: list[Mapping[str, Any]] = []
    if isinstance(container, ModuleType):
        spaces = [vars(container)]
    elif isinstance(container, type):
        spaces = [vars(cls) for cls in container.__mro__]
    return [
        name
        for space in spaces
        for name, value in list(space.items())
        if isinstance(value, FunctionType | type | staticmethod | classmethod)
    ]


def _kind(found: Any) -> str:
    if isinstance(found, type):
        return "class"
    return "function" if isinstance(found, FunctionType) else type(found).__name__


def _has_getattr_hook(container: Any) -> bool:
    return isinstance(container, ModuleType) and "__getattr__" in vars(container)


def _in_code(found: Any, key: str, outer: str, qualname: str) -> Problem | None:
    """Whether the function ``found`` (``outer``) defines ``qualname`` in its body."""
    function = keys.unwrap(found)
    code = function.__code__ if type(function) is FunctionType else None
    # Only the code of that very function tells: a decorator's wrapper (without
    # functools.wraps) holds other code.
    if type(code) is not CodeType or code.co_qualname != outer:
        return None
    defined = [nested.co_qualname for nested in _nested(code)]
    if qualname in defined:
        return None
    local = qualname[len(outer) + len(".<locals>.") :]
    module = key[: -len(qualname) - 1]
    close = difflib.get_close_matches(qualname, defined, n=3, cutoff=0.6)
    return Problem(
        f"{outer!r} defines no local function or class {local!r}",
        final=True,
        suggestions=tuple(f"{module}.{name}" for name in close),
    )


def _nested(code: CodeType) -> Iterator[CodeType]:
    for const in code.co_consts:
        if type(const) is CodeType:
            yield const
            yield from _nested(const)


def _names_itself(found: Any, key: str) -> Problem | None:
    # Only plain facts about the object (type checks, callable()): nothing that
    # would evaluate a lazy object.
    if isinstance(found, ModuleType):
        return Problem(f"{key!r} is a module", final=True)
    if issubclass(type(found), Signal):
        return Problem(
            f"{key!r} is a signal; mute a signal by passing it first: mute_signals({key!r})",
            final=True,
        )
    if not callable(found):
        if hasattr(type(found), "__get__"):
            # A descriptor (singledispatchmethod, property): what it gives an
            # instance (a receiver with this key) is not known here.
            return None
        return Problem(f"{key!r} is a {type(found).__name__}, not a callable", final=True)
    actual = keys.compute_key(found)
    if actual == key:
        return None
    return Problem(f"{key!r} is a callable whose receiver key is {actual!r}", True, (actual,))
