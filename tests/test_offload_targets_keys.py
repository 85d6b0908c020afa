"""One key, one offloaded receiver: keys freed by disconnect(), reloads, decorated
closures and lambdas sharing a key, and the deferred wrappers' lifetime."""

from __future__ import annotations

import functools
import gc
import importlib
import sys
import textwrap
import weakref
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

import signalkit
from signalkit.offload import targets


def _forget(key: str) -> None:
    targets._targets.pop(key, None)


class Handler:
    def handle(self, sender: Any, **kwargs: Any) -> None:
        pass


HANDLE_KEY = f"{__name__}.Handler.handle"


def test_a_disconnected_receiver_no_longer_holds_its_key() -> None:
    # setUp connects a handler object's method, tearDown disconnects it; the next
    # test (or TestCase class) connects another object's.
    signal = Signal()
    first, second = Handler(), Handler()
    try:
        signalkit.receiver(signal, offload=True)(first.handle)
        assert signal.disconnect(first.handle)
        signalkit.receiver(signal, offload=True)(second.handle)
        assert targets.resolve(HANDLE_KEY, 0)[0] == second.handle
    finally:
        signal.disconnect(first.handle)
        signal.disconnect(second.handle)
        _forget(HANDLE_KEY)


def test_a_receiver_disconnected_after_weak_false_is_released() -> None:
    signal = Signal()
    handler = Handler()
    ref = weakref.ref(handler)
    try:
        signalkit.receiver(signal, offload=True, weak=False)(handler.handle)
        assert signal.disconnect(handler.handle)
        del handler
        gc.collect()
        assert ref() is None  # (nor does the targets table keep it)
    finally:
        _forget(HANDLE_KEY)


MODULE = """
from typing import Any
from django.dispatch import Signal
import signalkit

changed = Signal()


class Sync:
    @classmethod
    def on_change(cls, sender: Any, **kwargs: Any) -> None:
        pass


signalkit.receiver(changed, offload=True)(Sync.on_change)
"""


def test_a_reloaded_module_with_a_classmethod_receiver(tmp_path: Any) -> None:
    # importlib.reload (tests, autoreload helpers): the same receiver defined
    # again, on a class defined again (the old one alive until the cycle
    # collector runs).
    name = "signalkit_test_reloaded"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODULE))
    sys.path.insert(0, str(tmp_path))
    gc.disable()  # (the old class lives in a reference cycle until a collection)
    try:
        module = importlib.import_module(name)
        old_signal = module.changed
        importlib.reload(module)
        assert targets.resolve(f"{name}.Sync.on_change", 0)[0] == module.Sync.on_change
    finally:
        gc.enable()
        sys.path.remove(str(tmp_path))
        module = sys.modules.pop(name)
        old_signal.disconnect(module.Sync.on_change)
        module.changed.disconnect(module.Sync.on_change)
        _forget(f"{name}.Sync.on_change")


def only(kind: str) -> Any:
    def decorate(func: Any) -> Any:
        @functools.wraps(func)
        def wrapper(sender: Any, **kwargs: Any) -> Any:
            if kwargs.get("kind") == kind:
                return func(sender, **kwargs)
            return None

        return wrapper

    return decorate


def handle_order(sender: Any, **kwargs: Any) -> None:
    pass


def test_decorated_closures_sharing_a_key_are_refused() -> None:
    # (functools.wraps gives both the key of the function they wrap.)
    key = f"{__name__}.handle_order"
    for_a, for_b = only("a")(handle_order), only("b")(handle_order)
    signal_a, signal_b = Signal(), Signal()
    try:
        signalkit.receiver(signal_a, offload=True, weak=False)(for_a)
        with pytest.raises(ImproperlyConfigured, match="Two different offloaded receivers"):
            signalkit.receiver(signal_b, offload=True, weak=False)(for_b)
        assert targets.resolve(key, *targets.signal_ref(key, signal_a))[0] is for_a
    finally:
        signal_a.disconnect(for_a)
        signal_b.disconnect(for_b)
        _forget(key)


FIRST_LAMBDA = lambda sender, **kwargs: "first"  # noqa: E731
SECOND_LAMBDA = lambda sender, **kwargs: "second"  # noqa: E731


def test_two_lambdas_of_one_module_are_refused() -> None:
    key = f"{__name__}.<lambda>"
    signal_a, signal_b = Signal(), Signal()
    try:
        signalkit.receiver(signal_a, offload=True, weak=False)(FIRST_LAMBDA)
        with pytest.raises(ImproperlyConfigured, match="Two different offloaded receivers"):
            signalkit.receiver(signal_b, offload=True, weak=False)(SECOND_LAMBDA)
        assert targets.resolve(key, *targets.signal_ref(key, signal_a))[0] is FIRST_LAMBDA
    finally:
        signal_a.disconnect(FIRST_LAMBDA)
        signal_b.disconnect(SECOND_LAMBDA)
        _forget(key)


def test_a_closure_connected_weakly_on_commit_is_dropped_when_garbage() -> None:
    # As Django does for signal.connect(func) (weak=True): the deferred wrapper
    # lives as long as the function, not longer.
    def make() -> Any:
        def on_commit_receiver(sender: Any, **kwargs: Any) -> None:
            pass

        return on_commit_receiver

    signal = Signal()
    func = make()
    ref = weakref.ref(func)
    signalkit.receiver(signal, on_commit=True)(func)
    del func
    gc.collect()
    try:
        assert ref() is None
        assert not signal.has_listeners()
    finally:
        if ref() is not None:
            signal.disconnect(ref())
