from __future__ import annotations

import functools
import gc
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import signals as model_signals
from django.dispatch import Signal

import signalkit
from signalkit.offload import refusals, targets

PLACED = Signal()
RENAMED = signalkit.define_signal("order_renamed")


class Holder:
    changed = signalkit.Signal()


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
            refusals.check_offloadable(signal, offloaded)


class RegisterTests:
    def test_a_signal_bound_to_no_module_is_named_by_its_position(self) -> None:
        first, second = Signal(), Signal()
        on_the_fly = signalkit.Signal()
        key = "offload.tests.pair"
        receive = signalkit.receiver(
            [first, second, on_the_fly, Holder.changed], offload=True, name=key
        )
        receive(offloaded)
        try:
            refs = [targets.signal_ref(key, s) for s in (first, second, on_the_fly, Holder.changed)]
            assert refs == [(0, None), (1, None), (2, None), (3, None)]
            assert targets.resolve(key, *refs[1]) == (offloaded, second)
            assert targets.resolve(key, *refs[0]) == (offloaded, first)
            assert targets.resolve(key, *refs[3]) == (offloaded, Holder.changed)
            assert key in targets.offloaded_keys()
            with pytest.raises(LookupError, match="not to the one at position 4"):
                targets.resolve(key, 4)
        finally:
            for signal in (first, second, on_the_fly, Holder.changed):
                signal.disconnect(offloaded)

    def test_a_signal_is_named_by_its_path_whatever_order_a_worker_connects_in(self) -> None:
        key = "offload.tests.ordered"
        signals = [PLACED, model_signals.post_save, RENAMED]
        signalkit.receiver(signals, offload=True, name=key)(offloaded)
        try:
            sent = [targets.signal_ref(key, signal) for signal in signals]
            assert sent == [
                (0, "tests.test_offload_targets.PLACED"),
                (1, "django.db.models.signals.post_save"),
                # Named otherwise than the attribute that holds it: no path.
                (2, None),
            ]
            # A worker that connects the receiver to the same signals in another order.
            for signal in signals:
                signal.disconnect(offloaded)
            del targets._targets[key]
            signals = [model_signals.post_save, PLACED, RENAMED]
            signalkit.receiver(signals, offload=True, name=key)(offloaded)
            assert targets.resolve(key, *sent[0]) == (offloaded, PLACED)
            assert targets.resolve(key, *sent[1]) == (offloaded, model_signals.post_save)
            # Its path's module not imported here: by position, as the sender connected.
            assert targets.resolve(key, 1, "tests.not_imported.PLACED") == (offloaded, PLACED)
            with pytest.raises(LookupError, match=r"not to tests\.not_imported\.PLACED"):
                targets.resolve(key, 3, "tests.not_imported.PLACED")
        finally:
            for signal in signals:
                signal.disconnect(offloaded)

    def test_a_signal_the_receiver_left_is_not_replaced_by_its_position(self) -> None:
        # Queued for post_save; after a deploy the receiver is offloaded for
        # post_delete only: a task of post_save must not run it for post_delete.
        key = "offload.tests.moved"
        signalkit.receiver(model_signals.post_delete, offload=True, name=key)(offloaded)
        try:
            with pytest.raises(
                LookupError, match=r"'offload\.tests\.moved' is not connected to django\.db\."
            ):
                targets.resolve(key, 0, "django.db.models.signals.post_save")
            post_delete = "django.db.models.signals.post_delete"
            assert targets.resolve(key, 0, post_delete) == (offloaded, model_signals.post_delete)
        finally:
            model_signals.post_delete.disconnect(offloaded)

    def test_a_signal_renamed_since_the_task_was_queued_falls_back_to_its_position(
        self,
    ) -> None:
        # The module of the path is imported, but names no such signal any more.
        key = "offload.tests.renamed"
        signalkit.receiver(model_signals.post_delete, offload=True, name=key)(offloaded)
        try:
            found = targets.resolve(key, 0, "django.db.models.signals.post_removed")
            assert found == (offloaded, model_signals.post_delete)
        finally:
            model_signals.post_delete.disconnect(offloaded)

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


class Handler:
    def __init__(self, name: str) -> None:
        self.name = name

    def handle(self, sender: Any, **kwargs: Any) -> None:
        pass


def notify(sender: Any, *, channel: str = "", **kwargs: Any) -> None:
    pass


def both(sender: Any, **kwargs: Any) -> None:
    pass


class OneKeyTwoReceiversTests:
    """A worker finds a receiver by its key: two receivers that share one must
    not run for each other."""

    def test_bound_methods_of_two_objects_are_refused(self) -> None:
        first, second = Handler("first"), Handler("second")
        signal_a, signal_b = Signal(), Signal()
        signalkit.receiver(signal_a, offload=True, weak=False)(first.handle)
        try:
            with pytest.raises(ImproperlyConfigured, match="bound methods of two objects"):
                signalkit.receiver(signal_b, offload=True, weak=False)(second.handle)
            # The same object's method again is the same receiver.
            signalkit.receiver(signal_b, offload=True, weak=False)(first.handle)
            key = "tests.test_offload_targets.Handler.handle"
            assert targets.resolve(key, 1)[0] == first.handle
        finally:
            signal_a.disconnect(first.handle)
            signal_b.disconnect(first.handle)
            signal_b.disconnect(second.handle)

    def test_partials_with_other_arguments_need_their_own_names(self) -> None:
        email = functools.partial(notify, channel="email")
        sms = functools.partial(notify, channel="sms")
        signal_a, signal_b = Signal(), Signal()
        signalkit.receiver(signal_a, offload=True, weak=False)(email)
        try:
            with pytest.raises(ImproperlyConfigured, match="another name="):
                signalkit.receiver(signal_b, offload=True, weak=False)(sms)
            signalkit.receiver(signal_b, offload=True, weak=False, name="tests.sms")(sms)
            assert targets.resolve("tests.sms", 0)[0] is sms
            assert targets.resolve("tests.test_offload_targets.notify", 0)[0] is email
        finally:
            signal_a.disconnect(email)
            signal_b.disconnect(sms)

    def test_closures_of_one_factory_need_their_own_names(self) -> None:
        def make(channel: str) -> Any:
            def send(sender: Any, **kwargs: Any) -> None:
                print(channel)

            return send

        first, second = make("email"), make("sms")
        signal_a, signal_b = Signal(), Signal()
        signalkit.receiver(signal_a, offload=True, weak=False)(first)
        try:
            with pytest.raises(ImproperlyConfigured, match="another name="):
                signalkit.receiver(signal_b, offload=True, weak=False)(second)
        finally:
            signal_a.disconnect(first)
            signal_b.disconnect(second)

    def test_one_function_on_commit_and_offloaded_stays_connected_to_both(self) -> None:
        signal_a, signal_b = Signal(), Signal()
        signalkit.receiver(signal_a, on_commit=True)(both)
        signalkit.receiver(signal_b, offload=True)(both)
        try:
            gc.collect()  # (signals hold the wrappers weakly)
            assert signal_a.has_listeners()
            assert signal_b.has_listeners()
        finally:
            signal_a.disconnect(both)
            signal_b.disconnect(both)


def twice(sender: Any, **kwargs: Any) -> None:
    pass


class ConnectedAgainTests:
    """A connection Django ignores (the same function under a lookup key taken)
    leaves the offloaded receiver a worker finds as it was."""

    @pytest.mark.parametrize("weak", [True, False])
    def test_offloaded_again_with_on_commit_warns_that_it_runs_once(self, weak: bool) -> None:
        signal = Signal()
        signalkit.receiver(signal, offload=True, weak=weak)(twice)
        try:
            with pytest.warns(RuntimeWarning) as caught:
                signalkit.receiver(signal, offload=True, on_commit=True, weak=weak)(twice)
            (warning,) = caught
            key = "tests.test_offload_targets.twice"
            assert str(warning.message) == (
                f"{key} is connected to this signal and sender already, with offload=True; "
                "this connection, with offload=True and on_commit=True, is the same one "
                "(on_commit=True changes nothing with offload=True: "
                "SIGNALKIT['OFFLOAD']['DELIVERY'] decides when its task is queued), so "
                f"Django keeps the first only and {key} runs once per signal, on a worker. "
                "Remove one of the two."
            )
            gc.collect()
            assert len(signal.receivers) == 1
            assert targets.resolve(key, *targets.signal_ref(key, signal)) == (twice, signal)
        finally:
            signal.disconnect(twice)

    def test_offloaded_again_with_weak_false_is_still_found(self) -> None:
        # (As when the code that connects it runs twice: a ready() run again.)
        signal = Signal()
        for _ in range(2):
            signalkit.receiver(signal, offload=True, weak=False)(twice)
        try:
            gc.collect()
            key = "tests.test_offload_targets.twice"
            assert targets.resolve(key, *targets.signal_ref(key, signal)) == (twice, signal)
            assert key in targets.offloaded_keys()
        finally:
            signal.disconnect(twice)
