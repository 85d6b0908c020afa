"""A module of no installed app that nothing imports: an offload payload that
names it must not make a worker import it (importing runs a module's code)."""

from __future__ import annotations

import enum


class Thing:
    pass


class Colour(enum.Enum):
    RED = "red"
