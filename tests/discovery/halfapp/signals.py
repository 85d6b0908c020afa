from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from tests.discovery import fail_halfway, imports, pinged
from tests.discovery.halfapp import helpers, nested  # noqa: F401  (nested connects)

imports.append(__name__)


@receiver(pinged)
def on_ping(sender: Any, **kwargs: Any) -> None:
    imports.append("signals.on_ping")


class Strong:
    def __call__(self, sender: Any, **kwargs: Any) -> None:
        imports.append("signals.Strong")


pinged.connect(Strong(), weak=False)


class Listener:
    def on_ping(self, sender: Any, **kwargs: Any) -> None:
        imports.append("signals.Listener.on_ping")


listener = Listener()
pinged.connect(listener.on_ping)  # (a bound method: held weakly, alive with the module)


@receiver(pinged)
class Instantiated:
    def __init__(self, sender: Any, **kwargs: Any) -> None:
        imports.append("signals.Instantiated")


# A function of a module that imports fine: connected again under the same
# lookup key by the next import, which Django de-duplicates.
pinged.connect(helpers.on_helper_ping)

if __name__ in fail_halfway:
    raise ZeroDivisionError("broken halfway")
