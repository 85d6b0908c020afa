"""The one place that knows where Django's Tasks API lives.

Django 6.0 ships it as :mod:`django.tasks`; on Django 5.2 the ``django-tasks``
backport provides the same API as ``django_tasks``. We pick by feature
detection (an import), never by version number.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from types import ModuleType


def _tasks_api() -> ModuleType | None:
    for name in ("django.tasks", "django_tasks"):  # Django 6.0+, then the backport
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


_api = _tasks_api()
#: The module that provides the Tasks API, or ``""`` when none is installed.
TASKS_MODULE: str = _api.__name__ if _api is not None else ""
#: The ``@task`` decorator and the backend handler of that module.
task: Any = getattr(_api, "task", None)
task_backends: Any = getattr(_api, "task_backends", None)

__all__ = ["TASKS_MODULE", "get_backend", "require_tasks", "task", "task_backends"]


def require_tasks() -> None:
    """Raise :class:`ImproperlyConfigured` when no Tasks API is importable."""
    if not TASKS_MODULE:
        raise ImproperlyConfigured(
            "signalkit.receiver(offload=True) needs Django's Tasks API: use Django 6.0 or "
            "later, or install the backport with 'pip install django-tasks'."
        )


def get_backend(alias: str) -> Any:
    """The task backend configured under ``TASKS[alias]``."""
    require_tasks()
    return task_backends[alias]


def backend_database(backend: Any) -> str | None:
    """The database alias a backend stores its tasks in, or ``None`` when it does
    not store them in a Django database (Redis, immediate, dummy...)."""
    module = type(backend).__module__
    if not (module.startswith("django_tasks_db") or module.endswith("backends.database")):
        return None
    from django.apps import apps
    from django.db import router

    for label in ("django_tasks_database", "django_tasks_db"):
        try:
            model = apps.get_model(label, "DBTaskResult")
        except LookupError:
            continue
        return router.db_for_write(model)
    return None
