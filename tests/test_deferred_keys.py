"""A deferred receiver's key is its function's as it is now: a ``name=`` given by
an ``@receiver`` stacked above the one with ``on_commit`` or ``offload`` names
that connection too, for toggles, listings and the tasks a worker runs."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal
from django.test import override_settings

import signalkit
from signalkit.offload import targets
from signalkit.offload.compat import TASKS_MODULE, get_backend

DUMMY = {"default": {"BACKEND": f"{TASKS_MODULE}.backends.dummy.DummyBackend"}}

calls: list[Any] = []


@pytest.fixture(autouse=True)
def _clear() -> None:
    calls.clear()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("async_receiver", [False, True])
def test_a_name_given_above_an_on_commit_connection_names_it(async_receiver: bool) -> None:
    named, deferred = Signal(), Signal()

    def notify(sender: Any, signal: Signal, **kwargs: Any) -> None:
        calls.append(signal)

    async def anotify(sender: Any, signal: Signal, **kwargs: Any) -> None:
        calls.append(signal)

    func = anotify if async_receiver else notify
    signalkit.receiver(named, name="deferred.keys.notify")(
        signalkit.receiver(deferred, on_commit=True)(func)
    )
    try:
        (info,) = signalkit.registry.receivers(deferred)
        assert (info.key, info.on_commit) == ("deferred.keys.notify", True)
        with override_settings(SIGNALKIT={"RECEIVERS": {"deferred.keys.notify": False}}):
            named.send("off")
            deferred.send("off")  # autocommit: it would run at once
        assert calls == []
        deferred.send("on")
        assert calls == [deferred]
    finally:
        named.disconnect(func)
        deferred.disconnect(func)


def make_receiver(seen: list[Any]) -> Any:
    # (A closure: two made here are two receivers, not one defined again.)
    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(sender)

    return receiver


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DUMMY)
def test_a_name_given_above_an_offload_connection_names_its_tasks() -> None:
    named, deferred = Signal(), Signal()
    offloaded = make_receiver(calls)
    key = "deferred.keys.offloaded"
    signalkit.receiver(named, name=key)(signalkit.receiver(deferred, offload=True)(offloaded))
    try:
        with override_settings(SIGNALKIT={"RECEIVERS": {key: False}}):
            deferred.send("off")
        assert list(get_backend("default").results) == []
        deferred.send("on")
        (result,) = get_backend("default").results
        task = result.kwargs
        assert task["receiver"] == key
        # What a worker, which connects it the same way, looks the task up by.
        assert targets.resolve(key, task["signal"], task["signal_path"]) == (offloaded, deferred)
        assert f"{__name__}.make_receiver.<locals>.receiver" not in targets.offloaded_keys()
    finally:
        named.disconnect(offloaded)
        deferred.disconnect(offloaded)
        targets._targets.pop(key, None)


def test_a_name_another_offloaded_receiver_holds_is_refused() -> None:
    first, second, third = Signal(), Signal(), Signal()
    holder, offloaded = make_receiver(calls), make_receiver(calls)
    key = "deferred.keys.taken"
    signalkit.receiver(first, offload=True, name=key)(holder)
    signalkit.receiver(second, offload=True)(offloaded)
    try:
        # A worker could not tell the two apart.
        with pytest.raises(ImproperlyConfigured, match="Two different offloaded receivers"):
            signalkit.receiver(third, name=key)(offloaded)
    finally:
        first.disconnect(holder)
        second.disconnect(offloaded)
        third.disconnect(offloaded)
        targets._targets.pop(key, None)
        targets._targets.pop(f"{__name__}.make_receiver.<locals>.receiver", None)
