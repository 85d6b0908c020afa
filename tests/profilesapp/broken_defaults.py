"""A DEFAULTS module that fails to import (signalkit.E013 must report it)."""

from __future__ import annotations

raise RuntimeError("broken on purpose")
