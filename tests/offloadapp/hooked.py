"""A module with a ``__getattr__`` hook, which decoding a payload must not run."""

from __future__ import annotations

calls: list[str] = []


def __getattr__(name: str) -> object:
    calls.append(name)
    raise AttributeError(name)
