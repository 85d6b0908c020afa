"""Documented custom signals: :class:`Signal` and :func:`define_signal`."""

from __future__ import annotations

import sys
import weakref
from types import MethodType
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal as DjangoSignal

from signalkit.robust import asend_robust_logged, send_robust_logged
from signalkit.scan import name_in_module

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

# path -> signal; weak, so a signal that nothing references any more disappears.
_defined: weakref.WeakValueDictionary[str, Signal] = weakref.WeakValueDictionary()


def defined_signals() -> list[Signal]:
    """Every live :class:`Signal`, in definition order."""
    return list(_defined.values())


class Signal(DjangoSignal):
    """A :class:`django.dispatch.Signal` that knows its name, module, documentation
    and arguments.

    ``args`` names the keyword arguments ``send()`` passes to receivers; with
    ``strict=True`` the four send methods raise :class:`TypeError` when an argument
    is missing or unexpected.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        doc: str = "",
        args: Iterable[str] = (),
        strict: bool = False,
        use_caching: bool = False,
        module: str | None = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            # Kept, it would be a name no lookup can match, in every listing.
            hint = (  # type: ignore[unreachable]
                f" To declare its arguments, write args={name!r}."
                if isinstance(name, list | tuple)
                else ""
            )
            raise TypeError(f"A signal's name must be a string, not {name!r}.{hint}")
        checked_args = _check_args(args)
        super().__init__(use_caching=use_caching)
        self.name = name
        self.module = module if module is not None else _caller_module(signal=self)
        self.doc = doc
        self.args = checked_args
        self.strict = strict
        if strict:
            # Instance attributes, so that only strict signals pay for the check.
            # The methods are looked up on the signal's class at each call, so
            # that a subclass's own send methods run, and wrappers put on the
            # classes later (signal captures, the gate) also see strict sends.
            for method in _SEND_METHODS:
                setattr(self, method, MethodType(_strict_method(type(self), method), self))
        # Not self.path: nothing holds the signal yet, so looking its name up
        # here would only cost every Signal() created at run time a walk of
        # its module.
        _defined[f"{self.module}.{name}" if name else self._unnamed_path()] = self

    @property
    def path(self) -> str:
        """``module.name``; a signal created without a name is named after the
        variable or class attribute that holds it in its module, and is
        ``module.<unnamed 0x...>`` while nothing there holds it."""
        if not self.name:
            # Looked up when needed, not only by the registry: error messages
            # and reprs must name the signal whether or not anything listed it.
            self.name = name_in_module(self, self.module)
        if self.name:
            return f"{self.module}.{self.name}"
        return self._unnamed_path()

    def _unnamed_path(self) -> str:
        return f"{self.module}.<unnamed {id(self):#x}>"

    def __repr__(self) -> str:
        return f"<signalkit.Signal {self.path}>"

    def check_arguments(self, named: dict[str, Any]) -> None:
        """Raise :class:`TypeError` unless ``named`` has exactly the declared arguments."""
        expected = set(self.args)
        missing = sorted(expected - named.keys())
        unexpected = sorted(named.keys() - expected)
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(map(repr, missing))}")
            if unexpected:
                parts.append(f"unexpected {', '.join(map(repr, unexpected))}")
            if not self.args:
                takes = "takes no arguments"
            elif len(self.args) == 1:
                takes = f"takes the argument {self.args[0]!r}"
            else:
                takes = f"takes the arguments {', '.join(map(repr, self.args))}"
            raise TypeError(f"{self.path} {takes}: {'; '.join(parts)}.")

    def send_robust(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        """Like Django's, but logs each failure with the receiver's key (partials and
        callable objects included)."""
        return send_robust_logged(self, sender, named)

    async def asend_robust(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        """Like Django's, but logs each failure with the receiver's key."""
        return await asend_robust_logged(self, sender, named)


_SEND_METHODS = ("send", "send_robust", "asend", "asend_robust")


def _strict_method(cls: type[Signal], name: str) -> Callable[..., Any]:
    # A function bound to the signal, named as the class's method: a call with
    # the wrong positional arguments fails with the TypeError Django's gives.
    strict: Callable[..., Any]
    if name.startswith("a"):

        async def strict(self: Signal, sender: Any, **named: Any) -> Any:
            self.check_arguments(named)
            return await getattr(cls, name)(self, sender, **named)

    else:

        def strict(self: Signal, sender: Any, **named: Any) -> Any:
            self.check_arguments(named)
            return getattr(cls, name)(self, sender, **named)

    strict.__name__ = name
    strict.__qualname__ = f"{cls.__name__}.{name}"
    strict.__doc__ = getattr(cls, name).__doc__
    return strict


def _check_args(args: Iterable[str] | None) -> tuple[str, ...]:
    if args is None:
        return ()
    if isinstance(args, str | bytes):
        # tuple("post") would declare the arguments 'p', 'o', 's' and 't'.
        raise TypeError(
            f"args must be a list of argument names, not {args!r}: for one argument "
            f"write args=[{args!r}]."
        )
    names = tuple(args)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"args must name each argument as a string, not {name!r}.")
        if not name.isidentifier():
            # Receivers get the arguments as keywords: a name must be one.
            raise ValueError(f"args names {name!r}, which is not a keyword argument name.")
        if names.count(name) > 1:
            raise ValueError(f"args names {name!r} twice.")
        if name in ("sender", "signal"):
            # Every send passes these to receivers itself: a strict signal
            # declaring one could never be sent.
            raise ValueError(
                f"args names {name!r}, which every send passes to receivers already; leave it out."
            )
    return names


def _caller_module(depth: int = 2, signal: Signal | None = None) -> str:
    # The first frame outside this module and outside the ``__init__`` methods
    # of ``signal``'s classes: a subclass may define its own in another module.
    inits = set()
    for cls in () if signal is None else type(signal).__mro__:
        code = getattr(cls.__dict__.get("__init__"), "__code__", None)
        if code is not None:
            inits.add(code)
    frame = sys._getframe(depth)
    while frame is not None and (
        frame.f_globals.get("__name__") == __name__ or frame.f_code in inits
    ):
        frame = frame.f_back  # type: ignore[assignment]
    return str(frame.f_globals.get("__name__", "?")) if frame is not None else "?"


def define_signal(
    name: str, *, doc: str = "", args: Iterable[str] = (), strict: bool = False
) -> Signal:
    """Create and register a documented :class:`Signal` defined in the caller's module.

    Give it a name no other signal has: a shared short name is ambiguous to
    ``listsignals``, ``registry.get()`` and ``mute_signals()``, and reported by the
    system check ``signalkit.W015``."""
    return Signal(name, doc=doc, args=args, strict=strict, module=_caller_module())
