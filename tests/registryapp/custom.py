"""Custom signals of every kind, for the registry tests (not autodiscovered)."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal as DjangoSignal
from django.utils.functional import SimpleLazyObject

from signalkit.dispatch import Signal, define_signal

#: A plain Django signal: found by the module scan.
order_paid = DjangoSignal()

#: A signalkit signal without a name: named after this variable.
order_cancelled = Signal(doc="An order was cancelled.", args=("order", "reason"))

item_shipped = define_signal("item_shipped", doc="An item left the warehouse.", args=("item",))


class StrictSignal(Signal):
    """A project's own base class, with an ``__init__`` of its own."""

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("strict", True)
        super().__init__(name, **kwargs)


class AuditedSignal(StrictSignal):
    """A subclass of that, with its own ``__init__`` too."""

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("doc", "Audited.")
        super().__init__(name, **kwargs)


#: A string sender that is a module-level constant.
SHOP_SENDER = "shop.v2"

#: A string sender that needs escaping in mermaid labels.
ODD_SENDER = 'a "quoted" <sender> & co'

#: Evaluations of :data:`lazy`; scanning modules must never add one.
evaluations: list[int] = []


def _evaluate() -> object:
    evaluations.append(1)
    return object()


lazy = SimpleLazyObject(_evaluate)


class ShopEvents:
    """Signals held by a class, without a module-level variable."""

    #: signalkit signals without a name: named after their attribute.
    paid = Signal(doc="An order was paid.", args=("order",))
    refunded = Signal(doc="An order was refunded.", args=("order",))
    #: A plain Django signal: found by the module scan too.
    changed = DjangoSignal()
    #: Reading the class must not evaluate it either.
    lazy = lazy
