"""Send time: encode a receiver call and hand it to the task backend."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Model, QuerySet
from django.db.models.signals import post_delete

from signalkit.conf import get_settings
from signalkit.offload import codec, compat, nesting, targets

if TYPE_CHECKING:
    from django.dispatch import Signal

    from signalkit.conf import OffloadSettings
    from signalkit.receivers import DeferredReceiver


logger = logging.getLogger("signalkit.offload")


class OffloadError(TypeError):
    """A signal argument that cannot be sent to a task worker."""


# The argument an offloaded receiver gets the task's idempotency key as.
RESERVED = "idempotency_key"


def encode_call(key: str, signal: Signal, sender: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The task arguments that run receiver ``key`` for this send."""
    if RESERVED in kwargs:
        raise OffloadError(
            f"Cannot offload receiver {key!r}: its argument {RESERVED!r} is the name under "
            f"which offloaded receivers get the task's key. Rename the signal's argument."
        )
    position, path = targets.signal_ref(key, signal)
    encoded: dict[str, Any] = {}
    for name, value in [("sender", sender), *kwargs.items()]:
        try:
            if signal is post_delete and name in ("instance", "origin"):
                encoded[name] = _deleted(value)
            else:
                encoded[name] = codec.encode(value)
        except codec.EncodeError as error:
            raise _refused(key, name, f"({error})") from error
        except RecursionError as error:
            raise _refused(key, name, _TOO_DEEP) from error
        if nesting.too_deep(encoded[name]):
            raise _refused(key, name, _TOO_DEEP)
    return {
        "receiver": key,
        "signal": position,
        "signal_path": path,
        "sender": encoded.pop("sender"),
        "kwargs": encoded,
        "idempotency_key": uuid.uuid4().hex,
    }


_TOO_DEEP = "is nested too deeply to travel"


def _refused(key: str, name: str, why: str) -> OffloadError:
    return OffloadError(
        f"Cannot offload receiver {key!r}: its argument {name!r} {why}. "
        f"Send JSON values, model instances, UUIDs, dates, times or Decimals, or "
        f"connect the receiver without offload=True."
    )


def _deleted(value: Any) -> Any:
    # The rows are gone by the time a worker runs: an instance travels as a
    # snapshot of its field values, the QuerySet that deleted rows as an empty
    # QuerySet of its model.
    if isinstance(value, Model):
        return codec.snapshot(value)
    if isinstance(value, QuerySet):
        return {"$emptyqueryset": value.model._meta.label}
    return codec.encode(value)


def enqueue(wrapper: DeferredReceiver, signal: Signal, sender: Any, kwargs: dict[str, Any]) -> None:
    """Queue one call of ``wrapper``'s receiver, after the sender's transaction
    commits (``DELIVERY`` ``"on_commit"``) or inside it (``"outbox"``)."""
    settings = get_settings().offload
    arguments = encode_call(wrapper.__signalkit_key__, signal, sender, kwargs)
    using = kwargs.get("using") if isinstance(kwargs.get("using"), str) else DEFAULT_DB_ALIAS
    task, backend = _task(settings)
    if settings.delivery == "outbox":
        stored_in = compat.backend_database(backend)
        if stored_in != using:
            raise ImproperlyConfigured(
                f"SIGNALKIT['OFFLOAD']['DELIVERY'] is 'outbox', but task backend "
                f"{settings.backend!r} stores its tasks in "
                f"{'database ' + repr(stored_in) if stored_in else 'no Django database'}, "
                f"not in {using!r} where receiver {wrapper.__signalkit_key__!r} was sent. "
                f"Use DELIVERY 'on_commit', or a database backend routed to {using!r}."
            )
        task.enqueue(**arguments)
    else:
        key = wrapper.__signalkit_key__
        transaction.on_commit(lambda: _enqueue_committed(task, arguments, key), using=using)


def _task(settings: OffloadSettings) -> tuple[Any, Any]:
    """The task that runs offloaded receivers on the configured backend and queue,
    and that backend; :class:`ImproperlyConfigured` with the message of the system
    check (``signalkit.E031``, ``E032``) when they are not usable: the Tasks
    API's own errors name neither ``SIGNALKIT`` nor the key."""
    from signalkit.offload.checks import backend_of

    backend, problems = backend_of(settings)
    if problems:
        problem = problems[0]
        raise ImproperlyConfigured(f"{problem.msg} {problem.hint} ({problem.id})")
    # (Imported once the backend is known to work: the module defines the task on it.)
    from signalkit.offload.tasks import run_receiver

    return run_receiver.using(backend=settings.backend, queue_name=settings.queue_name), backend


def _enqueue_committed(task: Any, arguments: dict[str, Any], key: str) -> None:
    # The change is committed whatever happens here: a backend that cannot queue
    # the task (its broker is down) must not fail the request that made it, nor
    # keep Django from running the on-commit callbacks registered after this one.
    try:
        task.enqueue(**arguments)
    except Exception:
        logger.exception(
            "Could not queue offloaded receiver %s after the commit: this call is lost. "
            "DELIVERY 'outbox' queues tasks inside the transaction.",
            key,
        )
