"""System checks of the offload configuration (``signalkit.E030`` to ``E033``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.checks import CheckMessage, Error, Tags, register

from signalkit.conf import get_settings, raw_settings
from signalkit.offload import compat, targets

if TYPE_CHECKING:
    from signalkit.conf import OffloadSettings


def _configured() -> bool:
    raw = raw_settings()
    return bool(targets.offloaded_keys()) or (isinstance(raw, dict) and "OFFLOAD" in raw)


@register(Tags.compatibility)
def check_offload(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Check the task backend that offloaded receivers use (E030-E033)."""
    if not _configured():
        return []
    settings = get_settings().offload
    if not compat.TASKS_MODULE:
        return [
            Error(
                "SIGNALKIT['OFFLOAD'] is set, but Django's Tasks API is not available.",
                hint="Use Django 6.0 or later, or install the backport: pip install django-tasks.",
                id="signalkit.E030",
            )
        ]
    backend, errors = backend_of(settings)
    if backend is None:
        return errors
    if settings.delivery == "outbox" and compat.backend_database(backend) is None:
        errors.append(
            Error(
                f"SIGNALKIT['OFFLOAD']['DELIVERY'] is 'outbox', but task backend "
                f"{settings.backend!r} ({type(backend).__module__}.{type(backend).__qualname__}) "
                f"does not store its tasks in a Django database, so they cannot commit or roll "
                f"back with the data.",
                hint="Use DELIVERY 'on_commit', or the database backend (django-tasks-db).",
                id="signalkit.E033",
            )
        )
    return errors


def backend_of(settings: OffloadSettings) -> tuple[Any, list[CheckMessage]]:
    """The task backend offloaded receivers use (``None`` if unusable), and what is
    wrong with it: ``signalkit.E031`` (no such backend) or ``E032`` (a queue it
    does not serve). The send raises these too, where checks do not run."""
    try:
        backend = compat.get_backend(settings.backend)
    except Exception as error:
        aliases = _aliases()
        # An alias that exists is right: what fails is the backend it names.
        hint = (
            f"Fix TASKS[{settings.backend!r}]['BACKEND']: use the dotted path of an installed "
            "task backend class."
            if settings.backend in aliases
            else f"Use an alias of the TASKS setting: {', '.join(map(repr, aliases))}."
            if aliases
            else "Use an alias of the TASKS setting, e.g. 'default'."
        )
        return None, [
            Error(
                f"SIGNALKIT['OFFLOAD']['BACKEND'] is {settings.backend!r}, which is not a usable "
                f"task backend: {error}",
                hint=hint,
                id="signalkit.E031",
            )
        ]
    errors: list[CheckMessage] = []
    queues = getattr(backend, "queues", None)
    if queues and settings.queue_name not in queues:
        errors.append(
            Error(
                f"SIGNALKIT['OFFLOAD']['QUEUE_NAME'] is {settings.queue_name!r}, which task "
                f"backend {settings.backend!r} does not serve (its QUEUES: {sorted(queues)}).",
                hint="Use one of its queues, or add the queue to TASKS[...]['QUEUES'].",
                id="signalkit.E032",
            )
        )
    return backend, errors


def _aliases() -> list[str]:
    """The aliases of the ``TASKS`` setting (with the default one when it is unset)."""
    try:
        return list(compat.task_backends.settings)
    except Exception:
        return []
