"""What :meth:`~signalkit.testing.Capture.assert_sent` and its siblings are given:
the signal (first, or as ``signal=``; one that the capture records), the
arguments to match (named, or in a dict) and the number of sends expected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from signalkit.selectors import resolve_signal
from signalkit.testing.describing import signal_name

if TYPE_CHECKING:
    from django.dispatch import Signal

__all__ = ["BY_NAME", "check_count", "equal", "merged", "recorded", "signal_of"]

#: The signal given as ``signal=...``, not first (a default no one passes).
BY_NAME: Any = object()


def signal_of(signal: Signal | str, named: dict[str, Any], method: str) -> Signal | str:
    """The signal, given first or, as it could be before the dict of arguments
    came, as ``signal=``."""
    if signal is not BY_NAME:
        return signal
    if "signal" not in named:
        raise TypeError(f"{method}() needs the signal, as its first argument.")
    found: Signal | str = named.pop("signal")
    return found


def recorded(signals: tuple[Signal, ...], signal: Signal | str) -> Signal:
    """``signal`` resolved, if a capture of ``signals`` (every signal when empty)
    records it: an assertion on a signal it does not record would pass, or fail,
    whatever was sent."""
    resolved = resolve_signal(signal)
    if signals and not any(resolved is each for each in signals):
        given = ", ".join(signal_name(each) for each in signals)
        name = signal_name(resolved)
        raise ValueError(
            f"This capture records only {given}, not {name}: it cannot tell whether "
            f"{name} was sent. Pass {name} to capture_signals() too, or no signal "
            "at all to record every signal."
        )
    return resolved


def check_count(count: object) -> None:
    """Refuse a ``count`` that is no number of sends."""
    if count is None:
        return
    if not isinstance(count, int) or isinstance(count, bool):
        raise TypeError(
            f"count is the number of sends expected, an int, not {count!r}; to match an "
            "argument named count, pass it in a dict: assert_sent(signal, {'count': ...})."
        )
    if count < 0:
        raise ValueError(f"count is the number of sends expected, 0 or more, not {count}.")


def merged(arguments: Mapping[str, Any] | None, named: dict[str, Any]) -> dict[str, Any]:
    """The arguments to match: those of the dict and those named."""
    if arguments is None:
        return named
    if not isinstance(arguments, Mapping):
        raise TypeError(
            f"The arguments to match are a dict, not {arguments!r}; pass the sender as "
            "sender=..., and the arguments as keywords or in a dict."
        )
    if "sender" in arguments:
        raise TypeError("Pass the sender as sender=..., not in the dict of arguments.")
    twice = sorted(set(arguments) & set(named))
    if twice:
        raise TypeError(f"{', '.join(map(repr, twice))} given both in the dict and as a keyword.")
    return {**arguments, **named}


def equal(actual: Any, expected: Any) -> bool:
    try:
        return bool(actual == expected)
    except Exception:
        return False
