from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import signals as model_signals
from django.dispatch import Signal

import signalkit
from signalkit.offload import targets

PLACED = Signal()


def offloaded(sender: Any, **kwargs: Any) -> None:
    pass


def another(sender: Any, **kwargs: Any) -> None:
    pass


class CheckOffloadableTests:
    @pytest.mark.parametrize(
        ("signal", "name"),
        [
            (model_signals.pre_init, "pre_init"),
            (model_signals.post_init, "post_init"),
            (model_signals.class_prepared, "class_prepared"),
            (model_signals.pre_save, "pre_save"),
            (model_signals.pre_delete, "pre_delete"),
        ],
    )
    def test_refused_signal_fails_at_connect_time_naming_receiver_and_signal(
        self, signal: Signal, name: str
    ) -> None:
        with pytest.raises(ImproperlyConfigured) as caught:
            signalkit.receiver(signal, offload=True)(offloaded)
        message = str(caught.value)
        assert "'tests.test_offload_targets.offloaded'" in message
        assert f"for {name}:" in message
        assert not signal.disconnect(offloaded)

    def test_post_save_post_delete_and_custom_signals_are_allowed(self) -> None:
        for signal in (model_signals.post_save, model_signals.post_delete, Signal()):
            targets.check_offloadable(signal, offloaded)


class RegisterTests:
    def test_a_signal_bound_to_no_module_is_named_by_its_position(self) -> None:
        first, second = Signal(), Signal()
        signalkit.receiver([first, second], offload=True, name="offload.tests.pair")(offloaded)
        try:
            key = "offload.tests.pair"
            assert targets.signal_ref(key, first) == 0
            assert targets.signal_ref(key, second) == 1
            assert targets.resolve(key, targets.signal_ref(key, second)) == (offloaded, second)
            assert targets.resolve(key, targets.signal_ref(key, first)) == (offloaded, first)
            assert key in targets.offloaded_keys()
            with pytest.raises(LookupError, match="not to the one at position 2"):
                targets.resolve(key, 2)
        finally:
            first.disconnect(offloaded)
            second.disconnect(offloaded)

    def test_a_signal_is_named_by_its_path_whatever_order_a_worker_connects_in(self) -> None:
        key = "offload.tests.ordered"
        receive = signalkit.receiver([PLACED, model_signals.post_save], offload=True, name=key)
        receive(offloaded)
        try:
            sent = targets.signal_ref(key, PLACED)
            assert sent == "tests.test_offload_targets.PLACED"
            assert targets.signal_ref(key, model_signals.post_save) == (
                "django.db.models.signals.post_save"
            )
            # A worker that connects the receiver to the same signals in another order.
            PLACED.disconnect(offloaded)
            model_signals.post_save.disconnect(offloaded)
            del targets._targets[key]
            receive = signalkit.receiver([model_signals.post_save, PLACED], offload=True, name=key)
            receive(offloaded)
            assert targets.resolve(key, sent) == (offloaded, PLACED)
            with pytest.raises(LookupError, match=r"not connected to signal 'tests\.nowhere'"):
                targets.resolve(key, "tests.nowhere")
        finally:
            PLACED.disconnect(offloaded)
            model_signals.post_save.disconnect(offloaded)

    def test_unknown_key_names_the_key_and_the_fix(self) -> None:
        with pytest.raises(
            LookupError, match=r"No offloaded receiver 'nowhere\.to\.be\.found'.*AUTODISCOVER"
        ):
            targets.resolve("nowhere.to.be.found", 0)

    def test_two_functions_with_one_key_are_refused(self) -> None:
        signal = Signal()
        signalkit.receiver(signal, offload=True, name="offload.tests.clash")(offloaded)
        try:
            with pytest.raises(ImproperlyConfigured, match="Two different offloaded receivers"):
                signalkit.receiver(signal, offload=True, name="offload.tests.clash")(another)
            assert not signal.disconnect(another)
        finally:
            signal.disconnect(offloaded)
