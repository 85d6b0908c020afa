"""Receivers of every kind, for the registry and listsignals tests.

Tests connect them by hand (this module is not autodiscovered); the exact-output
tests rely on their line numbers.
"""

from __future__ import annotations

import functools
from typing import Any


def on_event(sender: Any, **kwargs: Any) -> None:
    pass


async def on_event_async(sender: Any, **kwargs: Any) -> None:
    pass


def traced(func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


@traced
def decorated(sender: Any, **kwargs: Any) -> None:
    pass


def with_option(sender: Any, *, option: str, **kwargs: Any) -> None:
    pass


class Handlers:
    def method(self, sender: Any, **kwargs: Any) -> None:
        pass

    @staticmethod
    def static(sender: Any, **kwargs: Any) -> None:
        pass


class CallableReceiver:
    def __call__(self, sender: Any, **kwargs: Any) -> None:
        pass


class AsyncCallableReceiver:
    async def __call__(self, sender: Any, **kwargs: Any) -> None:
        pass


def make_local_receiver() -> Any:
    def local(sender: Any, **kwargs: Any) -> None:
        pass

    return local


def counted(func: Any) -> Any:
    """A decorator without functools.wraps: its wrapper is a local function."""

    def counting(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return counting


@counted
def counted_receiver(sender: Any, **kwargs: Any) -> None:
    pass


def logged(func: Any) -> Any:
    """A decorator with functools.wraps: its wrapper takes the local's qualname."""

    @functools.wraps(func)
    def logging(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return logging


#: A local function bound at module level (kept alive), unlike a wrapper of it.
made_receiver = make_local_receiver()


class ClassReceiver:
    """Connected itself: each send creates an instance, which runs __init__."""

    def __init__(self, sender: Any, **kwargs: Any) -> None:
        self.sender = sender


def make_local_handler() -> Any:
    class LocalHandler:
        def method(self, sender: Any, **kwargs: Any) -> None:
            pass

    return LocalHandler()
