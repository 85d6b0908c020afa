from __future__ import annotations

raise ZeroDivisionError("broken on purpose")
