"""A module of signals that nothing imports (autodiscovery imports only
``signals.py``): the registry imports it when asked for one by its path."""

from __future__ import annotations

from django.dispatch import Signal

stock_low = Signal()


class Warehouse:
    emptied = Signal()
