from __future__ import annotations

import importlib.util

from django.test import SimpleTestCase, override_settings

from signalkit.offload import compat
from tests.test_offload_enqueue import DUMMY

DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class CompatTests(SimpleTestCase):
    def test_built_in_tasks_api_wins_over_the_backport(self) -> None:
        built_in = importlib.util.find_spec("django.tasks") is not None
        assert ("django.tasks" if built_in else "django_tasks") == compat.TASKS_MODULE
        assert compat.task.__module__.startswith(compat.TASKS_MODULE)

    @override_settings(TASKS=DATABASE)
    def test_database_backend_stores_tasks_where_the_router_sends_them(self) -> None:
        assert compat.backend_database(compat.get_backend("default")) == "offload"

    @override_settings(TASKS=DUMMY)
    def test_other_backends_store_no_tasks_in_a_database(self) -> None:
        assert compat.backend_database(compat.get_backend("default")) is None
