from __future__ import annotations

from typing import Any

# The database task backend keeps its tasks in the "offload" database, which
# worker processes can see (an in-memory test database cannot be shared).
TASK_APPS = frozenset({"django_tasks_database"})


class TasksRouter:
    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        return "offload" if model._meta.app_label in TASK_APPS else None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return "offload" if model._meta.app_label in TASK_APPS else None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if app_label in TASK_APPS:
            return db == "offload"
        return None
