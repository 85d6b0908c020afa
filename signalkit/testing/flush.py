"""A ``TransactionTestCase`` empties its databases after each test and sends
``post_migrate``, so that receivers (content types, permissions, the project's
own seed data) fill them again for the tests that follow. That flush belongs to
no test: the mutes of the class are left around it, or a muted class would
leave the databases without that data for every later test.

With ``available_apps``, the flush sends nothing: ``_pre_setup`` sends
``post_migrate`` before each test instead, for those apps. That too is left
outside the mutes; the fixtures it then loads (``_fixture_setup``) are not."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from signalkit import gate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

__all__ = [
    "fixture_setup_muted",
    "flushing_unmuted",
    "pre_setup_unmuted",
    "unmuted",
    "unmuted_flushes",
]

# The mutes (by a token of their owner) that the _pre_setup running in this
# context has left, until its _fixture_setup enters them again.
_left: ContextVar[tuple[object, ...]] = ContextVar("signalkit_set_up_unmuted", default=())
_HOOKS = ("_fixture_teardown", "_pre_setup", "_fixture_setup")


def unmuted(mutes: Sequence[tuple[gate.Mute, str]], func: Callable[[], Any]) -> None:
    """Run ``func`` with ``mutes`` (each with its scope) left, then enter them again."""
    for mute, scope in reversed(mutes):
        gate.leave(mute, scope)
    try:
        func()
    finally:
        for mute, scope in mutes:
            gate.enter(mute, scope)


def pre_setup_unmuted(
    case: Any, token: object, mutes: Sequence[tuple[gate.Mute, str]], pre_setup: Callable[[], Any]
) -> None:
    """Run ``pre_setup``, the ``_pre_setup`` of the test case (class) ``case``,
    outside ``mutes`` if it sends ``post_migrate`` (``available_apps``)."""
    if getattr(case, "available_apps", None) is None:
        pre_setup()
        return
    reset = _left.set((*_left.get(), token))
    try:
        unmuted(mutes, pre_setup)
    finally:
        _left.reset(reset)


def fixture_setup_muted(
    token: object, mutes: Sequence[tuple[gate.Mute, str]], fixture_setup: Callable[[], Any]
) -> None:
    """Run ``fixture_setup`` inside ``mutes`` again, if ``_pre_setup`` left them."""
    if token not in _left.get():
        fixture_setup()
        return
    for mute, scope in mutes:
        gate.enter(mute, scope)
    try:
        fixture_setup()
    finally:
        for mute, scope in reversed(mutes):
            gate.leave(mute, scope)


def flushing_unmuted(cls: type[Any], mutes: Sequence[tuple[gate.Mute, str]]) -> None:
    """Make a ``TransactionTestCase`` subclass flush, and send ``post_migrate``
    for its ``available_apps``, outside ``mutes``."""
    from django.test import TransactionTestCase

    if not issubclass(cls, TransactionTestCase):
        return
    teardown = cls._fixture_teardown  # type: ignore[attr-defined]
    pre_setup = cls._pre_setup.__func__  # type: ignore[attr-defined]
    fixture_setup = cls._fixture_setup.__func__  # type: ignore[attr-defined]
    token = object()

    def _fixture_teardown(self: TransactionTestCase) -> None:
        unmuted(mutes, lambda: teardown(self))

    def _pre_setup(inner: type[TransactionTestCase]) -> None:
        pre_setup_unmuted(inner, token, mutes, lambda: pre_setup(inner))

    def _fixture_setup(inner: type[TransactionTestCase]) -> None:
        fixture_setup_muted(token, mutes, lambda: fixture_setup(inner))

    cls._fixture_teardown = _fixture_teardown  # type: ignore[attr-defined]
    cls._pre_setup = classmethod(_pre_setup)  # type: ignore[attr-defined]
    cls._fixture_setup = classmethod(_fixture_setup)  # type: ignore[attr-defined]


@contextmanager
def unmuted_flushes(cls: type[Any], mutes: Sequence[tuple[gate.Mute, str]]) -> Iterator[None]:
    """While the block lasts, ``cls`` (if a ``TransactionTestCase``) flushes (and
    sends ``post_migrate`` for its ``available_apps``) outside ``mutes``."""
    own = {name: cls.__dict__.get(name) for name in _HOOKS}
    flushing_unmuted(cls, mutes)
    try:
        yield
    finally:
        for name, hook in own.items():
            if hook is not None:
                setattr(cls, name, hook)
            elif name in cls.__dict__:
                delattr(cls, name)
