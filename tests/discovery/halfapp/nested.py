from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from tests.discovery import fail_halfway, imports, pinged


@receiver(pinged)
def on_nested_ping(sender: Any, **kwargs: Any) -> None:
    imports.append("nested.on_nested_ping")


if __name__ in fail_halfway:
    raise ZeroDivisionError("nested module broken halfway")
