"""The error of a value that cannot travel to a task worker."""

from __future__ import annotations


class EncodeError(TypeError):
    """A value that cannot travel to a worker."""
