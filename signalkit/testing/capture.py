"""Recording signal sends in tests: :func:`capture_signals`.

While a capture is active, the four send methods of Django's ``Signal`` (and
signalkit's overrides of the robust ones) are wrapped so that every send is
seen, also of muted signals and of signals without receivers (Django's send
methods return before looking at receivers then), and ``has_listeners()`` so
that a mute does not make Django skip a send (:mod:`signalkit.testing.listeners`).
The wrappers are installed by the first active capture and removed by the
last; captures are context-local. A capture ends with its block, also for a
context copied inside it (a task) that sends later: whether that send is
recorded never depends on captures elsewhere.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

from signalkit import gate
from signalkit.dispatch import Signal as SignalkitSignal
from signalkit.model_senders import check_instance_sender
from signalkit.selectors import model_label, sender_matches
from signalkit.testing.arguments import (
    BY_NAME,
    check_count,
    equal,
    merged,
    recorded,
    signal_of,
)
from signalkit.testing.describing import describe_sender, expectation, shown, signal_name
from signalkit.testing.listeners import wrap_has_listeners

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

#: Up to this many sends, failure messages list every one.
_REPORT_ALL = 20
_METHODS = ("send", "send_robust", "asend", "asend_robust")
_NEVER_MATCHED = "no send of it can match, and assert_not_sent() would pass whatever was sent"
_active: ContextVar[tuple[Capture, ...]] = ContextVar("signalkit_captures", default=())
# Installed and removed under the gate's lock (signalkit.gate.lock): the gate
# replaces Signal.send too, when a mute silences a whole signal.
_users = 0
# (class, method name, original attribute) for each wrapped method.
_saved: list[tuple[type, str, Any]] = []


@dataclass(frozen=True)
class Call:
    """One send: the signal, its sender and the keyword arguments it passed."""

    signal: Signal
    sender: Any
    kwargs: dict[str, Any]
    method: str = "send"

    def __str__(self) -> str:
        arguments = "".join(f", {name}={shown(value)}" for name, value in self.kwargs.items())
        sender = describe_sender(self.sender)
        return f"{signal_name(self.signal)}.{self.method}(sender={sender}{arguments})"


@dataclass
class Capture:
    """The sends seen while :func:`capture_signals` was active, oldest first."""

    signals: tuple[Signal, ...] = ()
    calls: list[Call] = field(default_factory=list)
    # Set when its block ends: a context copied inside the block (a task, an
    # executor job) still lists the capture, which records no more from then on.
    _ended: bool = field(default=False, init=False, repr=False, compare=False)

    def wants(self, signal: Signal) -> bool:
        return not self.signals or any(signal is wanted for wanted in self.signals)

    def matching(self, signal: Signal | str, sender: Any = ..., **kwargs: Any) -> list[Call]:
        """The calls of ``signal`` from ``sender`` (any when omitted) whose
        keyword arguments include ``kwargs``."""
        resolved = recorded(self.signals, signal)
        check_instance_sender((resolved,), sender, _NEVER_MATCHED)
        # Matched as mutes match senders (a model label's name in any case),
        # and by equality; arguments by identity or equality (an == that
        # raises, as a numpy array's truth value does, is no match).
        label = model_label(sender) if isinstance(sender, str) else gate.sender_label(sender)
        return [
            call
            for call in self.calls
            if call.signal is resolved
            and (
                sender is ...
                or sender_matches(call.sender, sender, label)
                or equal(call.sender, sender)
            )
            and all(
                name in call.kwargs
                and (call.kwargs[name] is value or equal(call.kwargs[name], value))
                for name, value in kwargs.items()
            )
        ]

    def assert_sent(
        self,
        signal: Signal | str = BY_NAME,
        arguments: Mapping[str, Any] | None = None,
        /,
        *,
        sender: Any = ...,
        count: int | None = None,
        **kwargs: Any,
    ) -> list[Call]:
        """Fail unless ``signal`` was sent (exactly ``count`` times if given) from
        ``sender`` with ``kwargs``; return the matching calls.

        ``arguments``, a dict, holds arguments to match too, whatever their name:
        a signal's own ``count`` argument, which ``count=`` would not match."""
        signal = signal_of(signal, kwargs, "assert_sent")
        check_count(count)
        kwargs = merged(arguments, kwargs)
        found = self.matching(signal, sender, **kwargs)
        if (count is None and not found) or (count is not None and len(found) != count):
            expected = "at least once" if count is None else f"{count} time(s)"
            raise AssertionError(
                f"Expected {expectation(signal, sender, kwargs)} to be sent {expected}, "
                f"it was sent {len(found)} time(s).\n{self.report(_resolve(signal))}"
                f"{self._count_hint(signal, count)}"
            )
        return found

    def assert_not_sent(
        self,
        signal: Signal | str = BY_NAME,
        arguments: Mapping[str, Any] | None = None,
        /,
        **match: Any,
    ) -> None:
        """Fail if ``signal`` was sent with ``match`` (which may include ``sender``)
        and ``arguments`` (a dict, as for :meth:`assert_sent`)."""
        signal = signal_of(signal, match, "assert_not_sent")
        sender = match.pop("sender", ...)
        match = merged(arguments, match)
        found = self.matching(signal, sender, **match)
        if found:
            raise AssertionError(
                f"Expected {expectation(signal, sender, match)} not to be sent, "
                f"it was sent {len(found)} time(s).\n{self.report(_resolve(signal))}"
            )

    def _count_hint(self, signal: Signal | str, count: int | None) -> str:
        # count= given for a signal that has an argument named count: the test
        # may have meant the argument.
        resolved = _resolve(signal)
        if count is None or not any(
            call.signal is resolved and "count" in call.kwargs for call in self.calls
        ):
            return ""
        return (
            f"\ncount={count} is the number of sends expected; to match the signal's own "
            f"'count' argument, pass it in a dict: assert_sent(signal, {{'count': {count!r}}})."
        )

    def report(self, signal: Signal | None = None) -> str:
        """The calls, one a line, for failure messages. Past a few calls, only
        those of ``signal`` (when given) are listed, and the others counted: a
        capture of every signal holds a ``pre_init`` and a ``post_init`` for each
        object loaded, which would bury the sends that matter."""
        if not self.calls:
            return "Nothing was sent."
        numbered = list(enumerate(self.calls, 1))
        if signal is None or len(numbered) <= _REPORT_ALL:
            return "Sent:\n" + "\n".join(f"  {index}. {call}" for index, call in numbered)
        shown = [(index, call) for index, call in numbered if call.signal is signal]
        others = Counter(
            signal_name(call.signal) for call in self.calls if call.signal is not signal
        )
        lines = [f"  {index}. {call}" for index, call in shown]
        text = ("Sent:\n" + "\n".join(lines)) if lines else f"{signal_name(signal)} was not sent."
        if others:
            counts = ", ".join(f"{name}: {count}" for name, count in others.most_common())
            text += f"\nAlso sent, not listed: {sum(others.values())} send(s) of other signals ({counts})."
        return text

    def clear(self) -> None:
        self.calls.clear()


@contextmanager
def capture_signals(*signals: Signal | str) -> Iterator[Capture]:
    """Record each send of ``signals`` (every signal when none is given) in the
    block, muted or not, in the current thread or asyncio task."""
    capture = Capture(tuple(_resolve(signal) for signal in signals))
    _install()
    _active.set((*_active.get(), capture))
    try:
        yield capture
    finally:
        capture._ended = True
        # Not a token reset: the block may end in another context (async fixtures).
        _active.set(tuple(active for active in _active.get() if active is not capture))
        _uninstall()


def active() -> tuple[Capture, ...]:
    """The captures active in this context."""
    return _active.get()


def set_active(captures: tuple[Capture, ...]) -> None:
    """Make ``captures`` the active ones of this context: a call run later in a
    copied context (an on_commit callback's) is seen by the captures around it."""
    _active.set(captures)


def _records(signal: Signal) -> bool:
    """Whether a capture of this context records ``signal`` now."""
    return any(not capture._ended and capture.wants(signal) for capture in _active.get())


def _record(signal: Signal, method: str, sender: Any, named: dict[str, Any]) -> None:
    for capture in _active.get():
        if not capture._ended and capture.wants(signal):
            capture.calls.append(Call(signal, sender, dict(named), method))


def _wrap(method: str, original: Callable[..., Any], is_async: bool) -> Callable[..., Any]:
    if is_async:

        async def async_wrapper(self: Signal, sender: Any, **named: Any) -> Any:
            if _active.get():
                _record(self, method, sender, named)
            return await original(self, sender, **named)

        wrapper: Callable[..., Any] = async_wrapper
    else:

        def wrapper(self: Signal, sender: Any, **named: Any) -> Any:
            if _active.get():
                _record(self, method, sender, named)
            return original(self, sender, **named)

    wrapper.__signalkit_capture__ = True  # type: ignore[attr-defined]
    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    return wrapper


def _install() -> None:
    global _users
    with gate.lock:
        _users += 1
        if _users > 1:
            return
        # signalkit's Signal overrides the robust methods without calling
        # Django's: wrapping both records each send once.
        for cls in (Signal, SignalkitSignal):
            for method in _METHODS:
                original = cls.__dict__.get(method)
                if original is None:
                    continue
                _saved.append((cls, method, original))
                setattr(cls, method, _wrap(method, original, method.startswith("a")))
        # Django skips some sends when no receiver would run: not for a mute
        # alone while a capture records the signal (see signalkit.testing.listeners).
        original = Signal.__dict__["has_listeners"]
        _saved.append((Signal, "has_listeners", original))
        Signal.has_listeners = wrap_has_listeners(original, _records)  # type: ignore[method-assign]


def _uninstall() -> None:
    global _users
    with gate.lock:
        _users -= 1
        if _users:
            return
        while _saved:
            cls, method, original = _saved.pop()
            setattr(cls, method, original)
        # The gate's own send hook goes back on if a mute still needs it (or
        # off, if the one put back was the gate's and no mute needs it now).
        gate._refresh()


_resolve = gate.resolve_signal
