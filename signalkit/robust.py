"""Robust sending that logs each failing receiver by its key.

Django's own ``send_robust()`` logs ``receiver.__qualname__``, which a
``functools.partial`` or a callable object does not have; these helpers log the
receiver's signalkit key instead and otherwise behave like Django's.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync, sync_to_async
from django.dispatch import dispatcher
from django.dispatch.dispatcher import NO_RECEIVERS

from signalkit.keys import receiver_key

if TYPE_CHECKING:
    from django.dispatch import Signal

logger = logging.getLogger("signalkit.dispatch")

# Django 6.1 runs async receivers concurrently in one context, which it copies
# back to the sender (so a receiver's context variables reach it); earlier
# versions gather them, each in a copy. Robust sends follow what Django does.
_run_parallel = getattr(dispatcher, "_run_parallel", None)


def _log(signal: Signal, receiver: Any, err: Exception) -> None:
    logger.error(
        "Error calling receiver %s of %r in send_robust(): %s",
        receiver_key(receiver),
        signal,
        err,
        exc_info=err,
    )


def _has_no_receivers(signal: Signal, sender: Any) -> bool:
    return not signal.receivers or signal.sender_receivers_cache.get(sender) is NO_RECEIVERS


def send_robust_logged(signal: Signal, sender: Any, named: dict[str, Any]) -> list[tuple[Any, Any]]:
    """``signal.send_robust(sender, **named)`` with key-based logging."""
    if _has_no_receivers(signal, sender):
        return []
    sync_receivers, async_receivers = signal._live_receivers(sender)
    responses = send_robust_logged_to(signal, sender, named, sync_receivers)
    if async_receivers:
        results = async_to_sync(_gather_robust)(signal, sender, named, async_receivers)
        responses.extend(zip(async_receivers, results, strict=True))
    return responses


async def asend_robust_logged(
    signal: Signal, sender: Any, named: dict[str, Any]
) -> list[tuple[Any, Any]]:
    """``await signal.asend_robust(sender, **named)`` with key-based logging."""
    if _has_no_receivers(signal, sender):
        return []
    # (Read here, as Django's asend_robust() does: a thread-sensitive call would
    # fail on Django 6.1 while a sibling receiver of an enclosing send is in one.)
    sync_receivers, async_receivers = signal._live_receivers(sender)

    async def sync_send() -> list[tuple[Any, Any]]:
        if not sync_receivers:
            return []
        sent: list[tuple[Any, Any]] = await sync_to_async(send_robust_logged_to)(
            signal, sender, named, sync_receivers
        )
        return sent

    responses: list[tuple[Any, Any]]
    if _run_parallel is None:
        # Django 5.2 and 6.0 run the sync receivers alongside the async ones,
        # each group in a task (a context) of its own.
        responses, results = await asyncio.gather(
            sync_send(), _gather_robust(signal, sender, named, async_receivers)
        )
    else:  # Django 6.1: the sync receivers first, in the sender's context
        responses = await sync_send()
        results = await _gather_robust(signal, sender, named, async_receivers)
    responses.extend(zip(async_receivers, results, strict=True))
    return responses


def send_robust_logged_to(
    signal: Signal, sender: Any, named: dict[str, Any], receivers: list[Any]
) -> list[tuple[Any, Any]]:
    responses: list[tuple[Any, Any]] = []
    for receiver in receivers:
        try:
            responses.append((receiver, receiver(signal=signal, sender=sender, **named)))
        except Exception as err:
            _log(signal, receiver, err)
            responses.append((receiver, err))
    return responses


async def _gather_robust(
    signal: Signal, sender: Any, named: dict[str, Any], receivers: list[Any]
) -> list[Any]:
    async def call(receiver: Any) -> Any:
        try:
            return await receiver(signal=signal, sender=sender, **named)
        except Exception as err:
            _log(signal, receiver, err)
            return err

    calls = [call(receiver) for receiver in receivers]
    if _run_parallel is not None:
        return list(await _run_parallel(*calls))
    return list(await asyncio.gather(*calls))
