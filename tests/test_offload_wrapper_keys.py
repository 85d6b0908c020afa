"""A decorator's wrapper object has the key of what it wraps: offloaded next to
that function, it is another receiver, not the same one."""

from __future__ import annotations

import functools
import gc
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

import signalkit
from signalkit.offload import targets


def on_change(sender: Any, **kwargs: Any) -> None:
    pass


KEY = f"{__name__}.on_change"


class only_when_enabled:  # a decorator that changes what runs
    enabled = False

    __wrapped__: Any

    def __init__(self, func: Any) -> None:
        functools.update_wrapper(self, func)

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        if self.enabled:
            self.__wrapped__(sender, **kwargs)


def test_a_wrapper_object_offloaded_next_to_its_function_is_not_run_for_it() -> None:
    first, second = Signal(), Signal()
    decorated = only_when_enabled(on_change)
    try:
        signalkit.receiver(first, offload=True)(on_change)
        # One key for both: a worker would run one for the other.
        with pytest.raises(ImproperlyConfigured, match="Two different offloaded receivers"):
            signalkit.receiver(second, offload=True)(decorated)
        func, signal = targets.resolve(KEY, 0)
        assert func is on_change
        assert signal is first
    finally:
        first.disconnect(on_change)
        second.disconnect(decorated)
        targets._targets.pop(KEY, None)


def test_a_collected_wrapper_object_leaves_its_functions_tasks_resolvable() -> None:
    first, second = Signal(), Signal()
    try:
        signalkit.receiver(first, offload=True)(on_change)
        # (Connected weakly, the cache object would die at once.)
        with pytest.raises(ImproperlyConfigured, match="Two different offloaded receivers"):
            signalkit.receiver(second, offload=True)(functools.cache(on_change))
        gc.collect()
        func, signal = targets.resolve(KEY, 0)
        assert func is on_change
        assert signal is first
    finally:
        first.disconnect(on_change)
        targets._targets.pop(KEY, None)
