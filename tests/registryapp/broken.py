"""A module that fails to import: the registry says why when asked for a signal in it."""

from __future__ import annotations

import signalkit_tests_no_such_module  # type: ignore[import-not-found]  # noqa: F401
