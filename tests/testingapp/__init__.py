"""Models and views for the tests of :mod:`signalkit.testing`."""

from __future__ import annotations
