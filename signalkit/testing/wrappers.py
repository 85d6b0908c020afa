"""Functions decorated with :class:`~signalkit.testing.mute_signals`: the mute is
entered around each run of the function's own code."""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Generator
    from contextlib import AbstractContextManager


def wrap(func: Any, muter: AbstractContextManager[Any]) -> Any:
    """``func`` (a function, a coroutine or generator function, or a class or
    static method object) muted by ``muter`` while its code runs."""
    if isinstance(func, classmethod | staticmethod):
        # Written above @classmethod (a setUpTestData): the function inside is
        # decorated, and bound as before.
        return type(func)(wrap(func.__func__, muter))
    if not callable(func):
        raise TypeError(
            f"mute_signals() cannot decorate {func!r}: decorate a function, a method or a "
            "test case class, or use 'with mute_signals(...)'."
        )
    # asgiref's test, as Django's: also a function or object marked with
    # markcoroutinefunction (which inspect misses on Python 3.11).
    if iscoroutinefunction(func):
        return _wrap_async(func, muter)
    if inspect.isgeneratorfunction(func):
        return _wrap_generator(func, muter)
    if inspect.isasyncgenfunction(func):
        return _wrap_async_generator(func, muter)
    return _wrap_sync(func, muter)


def _wrap_sync(func: Callable[..., Any], muter: AbstractContextManager[Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def inner(*args: Any, **kwargs: Any) -> Any:
        with muter:
            return func(*args, **kwargs)

    return inner


def _wrap_async(func: Callable[..., Any], muter: AbstractContextManager[Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    async def inner(*args: Any, **kwargs: Any) -> Any:
        # Entered inside the coroutine, so the mute lasts while it runs (in its task).
        with muter:
            return await func(*args, **kwargs)

    return inner


# A generator's code runs each time it is resumed, not when it is called: the
# mute is entered around each resumption and left at each yield, so that the
# code between the yields (a with block under a @contextmanager, the test after
# a yield fixture) is not muted, as it would not be for a function.


def _wrap_generator(
    func: Callable[..., Any], muter: AbstractContextManager[Any]
) -> Callable[..., Any]:
    @functools.wraps(func)
    def inner(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        generator = func(*args, **kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                with muter:
                    if thrown is None:
                        item = generator.send(sent)
                    else:
                        error, thrown = thrown, None
                        item = generator.throw(error)
            except StopIteration as stop:
                return stop.value
            try:
                sent = yield item
            except GeneratorExit:
                with muter:
                    generator.close()
                raise
            except BaseException as error:
                sent, thrown = None, error

    return inner


def _wrap_async_generator(
    func: Callable[..., Any], muter: AbstractContextManager[Any]
) -> Callable[..., Any]:
    @functools.wraps(func)
    async def inner(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        generator = func(*args, **kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                with muter:
                    if thrown is None:
                        item = await generator.asend(sent)
                    else:
                        error, thrown = thrown, None
                        item = await generator.athrow(error)
            except StopAsyncIteration:
                return
            try:
                sent = yield item
            except GeneratorExit:
                with muter:
                    await generator.aclose()
                raise
            except BaseException as error:
                sent, thrown = None, error

    return inner
