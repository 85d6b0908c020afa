from __future__ import annotations

from typing import Any

from tests.discovery import imports


def on_helper_ping(sender: Any, **kwargs: Any) -> None:
    imports.append("helpers.on_helper_ping")


def say(sender: Any, *, line: str, **kwargs: Any) -> None:
    imports.append(line)
