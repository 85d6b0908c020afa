"""Worker side: the one module-level task that runs every offloaded receiver."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync, iscoroutinefunction

from signalkit.conf import get_settings
from signalkit.offload import codec, compat, targets

logger = logging.getLogger("signalkit.offload")

compat.require_tasks()

# The Tasks API validates a task against its backend when it is defined, so the
# definition names the configured backend and queue (this module is imported
# lazily: at the first offloaded send, or by the worker). Each send still picks
# the backend and queue configured at that moment.
_defaults = get_settings().offload


@compat.task(backend=_defaults.backend, queue_name=_defaults.queue_name)  # type: ignore[untyped-decorator]
def run_receiver(
    receiver: str,
    signal: int,
    sender: Any,
    kwargs: dict[str, Any],
    idempotency_key: str,
    signal_path: str | None = None,
) -> None:
    """Run offloaded receiver ``receiver`` for its signal -- the one ``signal_path``
    names, or the one at position ``signal`` among the receiver's signals -- with
    the decoded arguments.

    A receiver that the worker's ``SIGNALKIT['RECEIVERS']`` switches off is
    skipped, with a warning naming its key. Model instances are re-fetched; one
    deleted meanwhile is handled per ``SIGNALKIT['OFFLOAD']['MISSING']``:
    ``"skip"`` the call, pass ``None`` (``"none"``), or ``"fail"`` the task. A
    failure is raised with a note naming the receiver, so that the backend marks
    the task failed and logs it.
    """
    try:
        _run(receiver, signal, sender, kwargs, idempotency_key, signal_path)
    except Exception as error:
        # Backends log (and store) a failed task's traceback by its function, the
        # same for every offloaded receiver: the note says which one failed. Not
        # logged here as well: the backend's log is the one that has the task's
        # id, and that error monitoring hooks into.
        note = f"Offloaded receiver {receiver} failed (idempotency_key {idempotency_key})."
        if note not in getattr(error, "__notes__", ()):
            error.add_note(note)
        raise


def _run(
    receiver: str,
    signal: int,
    sender: Any,
    kwargs: dict[str, Any],
    idempotency_key: str,
    signal_path: str | None,
) -> None:
    settings = get_settings()
    if receiver in settings.disabled_receivers:
        # Switched off since the send (it is misbehaving, say): the worker's own
        # toggles apply to the calls queued before, too. Before resolving it, so
        # that this holds also for a receiver the worker can no longer import.
        logger.warning(
            "Skipped offloaded receiver %s: it is switched off (SIGNALKIT['RECEIVERS']), "
            "so this call is dropped (idempotency_key %s).",
            receiver,
            idempotency_key,
        )
        return
    func, signal_obj = targets.resolve(receiver, signal, signal_path)
    missing = settings.offload.missing
    using = kwargs.get("using") if isinstance(kwargs.get("using"), str) else None
    decoded: dict[str, Any] = {}
    try:
        for name, value in [("sender", sender), *kwargs.items()]:
            decoded[name] = codec.decode(value, using=using, none_if_missing=missing == "none")
    except codec.Missing as error:
        if missing == "fail":
            raise
        logger.info("Skipped offloaded receiver %s: %s.", receiver, error)
        return
    except Exception as error:
        # (Its message names a class or a model, not the argument.)
        error.add_note(f"(decoding the argument {name!r} of offloaded receiver {receiver})")
        raise
    if iscoroutinefunction(func):
        func = async_to_sync(func)
    func(signal=signal_obj, idempotency_key=idempotency_key, **decoded)
