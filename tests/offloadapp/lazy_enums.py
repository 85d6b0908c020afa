"""A module of an installed app that nothing imports at start-up: a payload may
name a class of it, and a worker imports it then."""

from __future__ import annotations

import enum


class Colour(enum.Enum):
    RED = "red"
