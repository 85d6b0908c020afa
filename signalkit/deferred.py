"""The deferred receivers: a receiver connected with ``on_commit=True`` or
``offload=True`` is connected through one of these wrappers, which calls it
after the sender's transaction commits or hands it to the task queue."""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from functools import partial
from types import MethodType
from typing import TYPE_CHECKING, Any

from asgiref.sync import (
    SyncToAsync,
    async_to_sync,
    iscoroutinefunction,
    markcoroutinefunction,
    sync_to_async,
)
from django.db import DEFAULT_DB_ALIAS, transaction

from signalkit import keys
from signalkit.commit import in_this_context

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.dispatch import Signal

__all__ = ["AsyncDeferredReceiver", "DeferredReceiver"]


class DeferredReceiver:
    """Calls its function after the sender's transaction commits (``on_commit``)
    or hands it to the task queue (``offload``)."""

    def __init__(self, func: Any, *, weak: bool, on_commit: bool, offload: bool) -> None:
        self._ref: Callable[[], Any]
        if not weak:
            self._ref = lambda: func
        elif isinstance(func, MethodType):
            self._ref = weakref.WeakMethod(func)
        else:
            self._ref = weakref.ref(func)
        self.on_commit = on_commit
        self.offload = offload
        self._key = keys.receiver_key(func)
        # Django's own send_robust() logs a failing receiver by its __qualname__
        # (a deferred receiver fails at once in autocommit).
        self.__qualname__ = getattr(func, "__qualname__", self._key)
        self.is_async = iscoroutinefunction(func)

    @property
    def __signalkit_key__(self) -> str:
        """Its function's key as it is now: a ``name=`` given to the function after
        this connection (another ``@receiver`` stacked above) applies to it too."""
        func = self._ref()
        if func is not None:
            self._key = keys.receiver_key(func)
        return self._key

    @property
    def __wrapped__(self) -> Any:
        return self._ref()

    def __repr__(self) -> str:
        how = "offload" if self.offload else "on_commit"
        return f"<DeferredReceiver {self.__signalkit_key__} ({how})>"

    def __call__(self, signal: Signal, sender: Any, **kwargs: Any) -> Any:
        if self.offload or self.is_async:
            return self.defer(signal, sender, kwargs)
        # defer() for a sync on_commit receiver, inlined: this runs on every send.
        func = self._ref()
        if func is not None:
            transaction.on_commit(
                in_this_context(partial(func, signal=signal, sender=sender, **kwargs)),
                using=kwargs.get("using") or DEFAULT_DB_ALIAS,
            )
        return None

    def defer(
        self, signal: Signal, sender: Any, kwargs: dict[str, Any], *, await_now: bool = False
    ) -> Any:
        """Defer the call; with ``await_now`` (an async receiver), return the
        function instead of calling it when it is due at once (autocommit): the
        caller awaits it on its own event loop."""
        func = self._ref()
        if func is None:
            return None
        if self.offload:
            from signalkit.offload.enqueue import enqueue

            enqueue(self, signal, sender, kwargs)
            return None
        call: Callable[[], Any] = partial(func, signal=signal, sender=sender, **kwargs)
        if self.is_async:
            call = partial(async_to_sync(func), signal=signal, sender=sender, **kwargs)
        # In the context of the send, as send_on_commit() runs its send: the
        # audit context and the mutes of the code that sent the signal apply.
        deferred = in_this_context(call)
        using = kwargs.get("using") or DEFAULT_DB_ALIAS
        if not await_now:
            transaction.on_commit(deferred, using=using)
            return None
        # Django calls the callback during on_commit() when no transaction is
        # open. An async receiver due at once must not run through async_to_sync()
        # from this worker thread: it would hold the thread-sensitive thread for
        # its whole run, and on Django 6.1, whose async receivers run side by
        # side in one shared context, the other receivers' sync_to_async() calls
        # then fail ("Single thread executor already being used").
        registering, due_now = True, False

        def on_commit() -> None:
            nonlocal due_now
            if registering:
                due_now = True  # called by on_commit() itself: no transaction
            else:
                deferred()

        transaction.on_commit(on_commit, using=using)
        registering = False
        return func if due_now else None


class AsyncDeferredReceiver(DeferredReceiver):
    """The deferred wrapper of an ``async def`` receiver; Django awaits it."""

    def __init__(self, func: Any, *, weak: bool, on_commit: bool, offload: bool) -> None:
        super().__init__(func, weak=weak, on_commit=on_commit, offload=offload)
        markcoroutinefunction(self)

    async def __call__(self, signal: Signal, sender: Any, **kwargs: Any) -> Any:
        # Registered from the thread that owns the database connection; awaited
        # here when it is due at once (autocommit). In a task of its own context:
        # Django 6.1 runs async receivers side by side in ONE context, where a
        # thread-sensitive sync_to_async() in progress (outside a
        # ThreadSensitiveContext: asyncio.run(), a command, a worker) makes any
        # other receiver's fail with "Single thread executor already being used".
        context = contextvars.copy_context()
        # That shared context also holds asgiref's mark of a sibling receiver's
        # sync_to_async() in progress, which would make this task's call fail
        # ("would deadlock"): this task waits for nothing that one holds.
        context.run(_clear_deadlock_mark)
        func = await asyncio.create_task(
            sync_to_async(self.defer)(signal, sender, kwargs, await_now=True),
            context=context,
        )
        if func is not None:
            await func(signal=signal, sender=sender, **kwargs)
        return None


def _clear_deadlock_mark() -> None:
    mark = getattr(SyncToAsync, "deadlock_context", None)
    if isinstance(mark, contextvars.ContextVar):
        mark.set(False)
