"""A ``TransactionTestCase`` empties its databases after each test and sends
``post_migrate``, so that receivers (content types, permissions, the project's
own seed data) fill them again for the tests that follow. That flush belongs to
no test: the mutes of the class are left around it, or a muted class would
leave the databases without that data for every later test."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from signalkit import gate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

__all__ = ["flushing_unmuted", "unmuted", "unmuted_flush", "unmuted_flushes"]


def unmuted(mutes: Sequence[tuple[gate.Mute, str]], func: Callable[[], Any]) -> None:
    """Run ``func`` with ``mutes`` (each with its scope) left, then enter them again."""
    for mute, scope in reversed(mutes):
        gate.leave(mute, scope)
    try:
        func()
    finally:
        for mute, scope in mutes:
            gate.enter(mute, scope)


def flushing_unmuted(cls: type[Any], mutes: Sequence[tuple[gate.Mute, str]]) -> None:
    """Make a ``TransactionTestCase`` subclass flush outside ``mutes``."""
    from django.test import TransactionTestCase

    if not issubclass(cls, TransactionTestCase):
        return
    teardown = cls._fixture_teardown  # type: ignore[attr-defined]

    def _fixture_teardown(self: TransactionTestCase) -> None:
        unmuted(mutes, lambda: teardown(self))

    cls._fixture_teardown = _fixture_teardown  # type: ignore[attr-defined]


def unmuted_flush(case: Any, mutes: Sequence[tuple[gate.Mute, str]]) -> None:
    """Make the test case ``case`` (if of a ``TransactionTestCase``) flush
    outside ``mutes`` after its test: for mutes of one test, not of its class."""
    from django.test import TransactionTestCase

    if not isinstance(case, TransactionTestCase):
        return
    teardown = case._fixture_teardown  # type: ignore[attr-defined]

    def _fixture_teardown() -> None:
        unmuted(mutes, teardown)

    case._fixture_teardown = _fixture_teardown  # type: ignore[attr-defined]


@contextmanager
def unmuted_flushes(cls: type[Any], mutes: Sequence[tuple[gate.Mute, str]]) -> Iterator[None]:
    """While the block lasts, ``cls`` (if a ``TransactionTestCase``) flushes outside ``mutes``."""
    own = cls.__dict__.get("_fixture_teardown")
    flushing_unmuted(cls, mutes)
    try:
        yield
    finally:
        if own is not None:
            cls._fixture_teardown = own
        elif "_fixture_teardown" in cls.__dict__:
            del cls._fixture_teardown
