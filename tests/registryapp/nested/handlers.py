from __future__ import annotations

from typing import Any


def on_nested_event(sender: Any, **kwargs: Any) -> None:
    pass
