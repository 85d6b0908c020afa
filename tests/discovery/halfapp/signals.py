from __future__ import annotations

import functools
from typing import Any

from django.dispatch import receiver

from tests.discovery import fail_halfway, imports, later_apps, pinged, pinged_later
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


# A function of a module that imports fine: connected again by the next import.
pinged.connect(helpers.on_helper_ping)

# A wrapper made here of a function of that module: a new object each import.
pinged.connect(functools.partial(helpers.say, line="signals.partial"), weak=False)


def on_later(sender: Any, **kwargs: Any) -> None:
    imports.append("signals.on_later")


# Its model is not registered: the connection waits for it.
pinged_later.connect(on_later, sender="halfapp.Later", apps=later_apps)

if __name__ in fail_halfway:
    raise ZeroDivisionError("broken halfway")
