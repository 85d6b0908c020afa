"""Apps that are never installed: the autodiscovery tests build their configs."""

from __future__ import annotations

#: Dotted names of the modules below, appended to as each one is imported.
imports: list[str] = []
