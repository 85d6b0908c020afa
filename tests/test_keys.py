from __future__ import annotations

import functools
import gc
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async

from signalkit import keys
from tests.registryapp import handlers

HANDLERS = "tests/registryapp/handlers.py"


def _line(receiver: Any) -> int | None:
    where = keys.location(receiver)
    if where is None:
        return None
    assert where[0].endswith(HANDLERS)
    return where[1]


class ReceiverKeyTests:
    def test_function(self) -> None:
        assert keys.receiver_key(handlers.on_event) == "tests.registryapp.handlers.on_event"

    def test_static_method(self) -> None:
        assert keys.receiver_key(handlers.Handlers.static) == (
            "tests.registryapp.handlers.Handlers.static"
        )

    def test_bound_method_is_its_functions_key(self) -> None:
        assert keys.receiver_key(handlers.Handlers().method) == (
            "tests.registryapp.handlers.Handlers.method"
        )

    def test_partial_is_the_wrapped_functions_key(self) -> None:
        bound = functools.partial(handlers.with_option, option="x")
        assert keys.receiver_key(bound) == "tests.registryapp.handlers.with_option"
        assert keys.receiver_key(functools.partial(handlers.Handlers().method)) == (
            "tests.registryapp.handlers.Handlers.method"
        )

    def test_callable_instance_is_its_class(self) -> None:
        assert keys.receiver_key(handlers.CallableReceiver()) == (
            "tests.registryapp.handlers.CallableReceiver"
        )

    def test_wrapper_objects_are_the_wrapped_functions_key(self) -> None:
        # Their class would give every receiver wrapped that way one key.
        cached = functools.cache(handlers.on_event)
        assert keys.receiver_key(cached) == "tests.registryapp.handlers.on_event"
        wrapped = sync_to_async(handlers.with_option)
        assert keys.receiver_key(wrapped) == "tests.registryapp.handlers.with_option"
        # async_to_sync keeps its function as ``awaitable``, not ``__wrapped__``.
        blocking = async_to_sync(handlers.on_event_async)
        assert keys.receiver_key(blocking) == "tests.registryapp.handlers.on_event_async"
        assert keys.unwrap(blocking) is handlers.on_event_async

    def test_a_cycle_of_wrapper_objects_ends_at_a_class_key(self) -> None:
        first, second = handlers.CallableReceiver(), handlers.CallableReceiver()
        first.__wrapped__ = second  # type: ignore[attr-defined]
        second.__wrapped__ = first  # type: ignore[attr-defined]
        assert keys.receiver_key(first) == "tests.registryapp.handlers.CallableReceiver"

    def test_decorated_function_keeps_its_name(self) -> None:
        assert keys.receiver_key(handlers.decorated) == "tests.registryapp.handlers.decorated"

    def test_local_function_has_locals_in_its_key(self) -> None:
        assert keys.receiver_key(handlers.make_local_receiver()) == (
            "tests.registryapp.handlers.make_local_receiver.<locals>.local"
        )

    def test_name_override(self) -> None:
        func = handlers.make_local_receiver()
        assert keys.receiver_key(func).endswith(".local")  # cached now
        keys.set_key(func, "shop.renamed")
        assert keys.receiver_key(func) == "shop.renamed"
        assert func.__signalkit_key__ == "shop.renamed"

    def test_a_wrappers_key_follows_a_name_given_to_its_function_since(self) -> None:
        func = handlers.make_local_receiver()
        bound = functools.partial(func, option="x")
        assert keys.receiver_key(bound).endswith(".local")  # cached now
        keys.set_key(func, "shop.renamed_since")
        assert keys.receiver_key(bound) == "shop.renamed_since"

    def test_cache_entry_dies_with_its_function(self) -> None:
        func = handlers.make_local_receiver()
        keys.receiver_key(func)
        ident = id(func)
        assert ident in keys._cache
        del func
        gc.collect()
        assert ident not in keys._cache


class UnwrapTests:
    def test_through_methods_partials_and_wrapped(self) -> None:
        method = handlers.Handlers().method
        assert keys.unwrap(method) is handlers.Handlers.method
        assert keys.unwrap(functools.partial(handlers.with_option)) is handlers.with_option
        assert keys.unwrap(handlers.decorated) is handlers.decorated.__wrapped__

    def test_instances_are_their_own_target(self) -> None:
        instance = handlers.CallableReceiver()
        assert keys.unwrap(instance) is instance


class LocationTests:
    def test_every_kind_of_receiver(self) -> None:
        assert _line(handlers.on_event) == 13
        assert _line(handlers.decorated) == 29  # the decorated function, not the wrapper
        assert _line(functools.partial(handlers.with_option)) == 34
        assert _line(handlers.Handlers().method) == 39
        assert _line(handlers.Handlers.static) == 42
        assert _line(handlers.CallableReceiver()) == 48

    def test_class_connected_itself_is_located_at_its_init(self) -> None:
        # Calling the class runs its __init__: that is the receiver's code.
        assert _line(handlers.ClassReceiver) == 95

    def test_builtins_have_no_location(self) -> None:
        assert keys.location(len) is None


class IsProtectedTests:
    def test_djangos_and_bookkeeping_receivers(self) -> None:
        assert keys.is_protected("django.db.close_old_connections")
        assert keys.is_protected("signalkit.conf.reset_settings")
        assert not keys.is_protected("signalkit.audit.record_save")
        assert not keys.is_protected("djangoapp.handlers.f")

    def test_the_tasks_backports_receivers_are_djangos(self) -> None:
        # django_tasks on Django 5.2 is django.tasks on 6.0+: spared and hidden alike.
        for key in (
            "django_tasks.signals.clear_tasks_handlers",
            "django_tasks.signals.log_task_enqueued",
        ):
            assert keys.is_djangos(key)
            assert keys.is_protected(key)
            assert keys.is_spared(key)
        # Its database and RQ backends are packages of their own.
        assert not keys.is_djangos("django_tasks_db.signals.f")
        assert not keys.is_spared("django_tasks_rq.signals.f")


def test_a_lazy_wrapped_attribute_is_not_evaluated() -> None:
    from django.utils.functional import SimpleLazyObject

    evaluated: list[bool] = []

    def target() -> Any:
        evaluated.append(True)
        return handlers.on_event

    class Holder:
        def __call__(self, sender: Any, **kwargs: Any) -> None:
            pass

    holder = Holder()
    holder.__wrapped__ = SimpleLazyObject(target)  # type: ignore[attr-defined]
    assert keys.compute_key(holder).endswith("Holder")
    assert evaluated == []
