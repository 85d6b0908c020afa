"""Settings of the task worker processes that the offload tests start.

The test passes its database name, the task backend and the queue in the
environment, so the worker sees exactly the test's (committed) data.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS

QUEUE = os.environ.get("SIGNALKIT_WORKER_QUEUE", "default")
BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
}
REDIS = {"HOST": "127.0.0.1", "PORT": 6379, "DB": 0}

# Workers keep their connections: Django closes old connections around each task.
_database: dict[str, object] = {
    **DATABASES["offload"],
    "NAME": os.environ.get("SIGNALKIT_WORKER_DB", ""),
    "CONN_MAX_AGE": 600,
}
DATABASES: dict[str, dict[str, object]] = {"default": _database, "offload": dict(_database)}  # type: ignore[no-redef]
INSTALLED_APPS = [*INSTALLED_APPS, "django_rq"]
TASKS = {
    "default": {
        "BACKEND": BACKENDS[os.environ.get("SIGNALKIT_WORKER_BACKEND", "database")],
        "QUEUES": [QUEUE],
    }
}
RQ_QUEUES = {QUEUE: REDIS}
SIGNALKIT = {
    # Receivers switched off on the worker only (keys separated by commas).
    "RECEIVERS": {
        key: False for key in os.environ.get("SIGNALKIT_WORKER_OFF", "").split(",") if key
    },
    "OFFLOAD": {
        "QUEUE_NAME": QUEUE,
        "MISSING": os.environ.get("SIGNALKIT_WORKER_MISSING", "skip"),
    },
}
# Every record on the worker's stderr, named by its logger, which the tests read:
# by default Django shows its own loggers' records (django.tasks on Django 6)
# on the console only with DEBUG.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"named": {"format": "[%(name)s %(levelname)s] %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "named"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
