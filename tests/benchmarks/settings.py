"""Settings for ``make bench``: the test settings, the benchmark apps and the peers
that are installed."""

from __future__ import annotations

import importlib.util

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

PEERS = [name for name in ("auditlog", "simple_history") if importlib.util.find_spec(name)]

INSTALLED_APPS = [
    *INSTALLED_APPS,
    *PEERS,
    "tests.benchmarks.benchapp",
    "tests.benchmarks.manymodels",
]

if "simple_history" not in PEERS:
    # The bench app's migration includes django-simple-history's table.
    MIGRATION_MODULES = {"benchapp": None}
