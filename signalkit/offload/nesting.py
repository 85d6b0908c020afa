"""How deeply an encoded payload may nest to reach a worker."""

from __future__ import annotations

import sys
from typing import Any


def limit() -> int:
    """The deepest nesting a payload's JSON may have: a quarter of Python's
    recursion limit (250 levels by default).

    The Tasks API walks the arguments recursively when it queues the task --
    after the sender's commit, where a failure loses the call -- and the worker
    does again, up to two frames a level on Python 3.11; a dict or a tuple
    takes two levels once encoded. A payload that the encoder's own recursion
    just managed could fail there, so the bound is checked at send time."""
    return sys.getrecursionlimit() // 4


def too_deep(encoded: Any) -> bool:
    """Whether ``encoded`` (JSON data) nests more than :func:`limit` levels."""
    if type(encoded) not in (list, dict):
        return False
    deepest = limit()
    # (A loop, not recursion: the point is not to need the stack.)
    pending = [(encoded, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > deepest:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) in (list, dict):
                pending.append((child, depth + 1))
    return False
