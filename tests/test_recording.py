from __future__ import annotations

import threading
from typing import Any

from django.apps import apps
from django.core.checks.model_checks import check_lazy_references
from django.db.models.signals import ModelSignal, post_save
from django.dispatch import Signal

from signalkit.entries import make_id
from signalkit.recording import recording
from signalkit.senders import pending_connections

DJANGOS = Signal.__dict__["connect"]
DJANGOS_MODEL = ModelSignal.__dict__["connect"]


def on_event(sender: Any, **kwargs: Any) -> None:
    pass


class RecordingTests:
    def test_notes_each_connection_with_the_module_that_made_it(self) -> None:
        signal = Signal()
        module: dict[str, Any] = {"signal": signal, "on_event": on_event}
        with recording() as made:
            # (Run as a module's body is: the same namespace for globals and locals.)
            exec("signal.connect(on_event)", module)
            signal.connect(on_event)  # (its lookup key is taken: Django ignores it)
        assert [(m.namespace, m.signal, m.key, m.receiver_id) for m in made.made] == [
            (module, signal, (make_id(on_event), make_id(None)), make_id(on_event))
        ]
        assert made.made[0].namespace is module

    def test_connect_is_djangos_again_once_the_block_ends(self) -> None:
        with recording():
            assert Signal.__dict__["connect"] is not DJANGOS
            with recording():
                pass
            assert Signal.__dict__["connect"] is not DJANGOS
        assert Signal.__dict__["connect"] is DJANGOS
        assert ModelSignal.__dict__["connect"] is DJANGOS_MODEL

    def test_notes_nothing_made_by_other_threads(self) -> None:
        signal = Signal()
        with recording() as made:
            thread = threading.Thread(target=signal.connect, args=(on_event,))
            thread.start()
            thread.join()
        assert made.made == []
        assert signal.has_listeners()

    def test_a_wrapper_put_on_top_meanwhile_stays_and_calls_through(self) -> None:
        calls: list[Any] = []
        signal = Signal()
        with recording():
            below = Signal.connect

            def wrapper(self: Signal, *args: Any, **kwargs: Any) -> None:
                calls.append(args[0])
                below(self, *args, **kwargs)

            Signal.connect = wrapper  # type: ignore[method-assign]
        try:
            assert Signal.__dict__["connect"] is wrapper
            with recording() as made:
                assert Signal.__dict__["connect"] is wrapper  # (not placed on top again)
                signal.connect(on_event)
            assert calls == [on_event]
            assert [m.receiver_id for m in made.made] == [make_id(on_event)]
        finally:
            Signal.connect = DJANGOS  # type: ignore[method-assign]
        with recording():
            assert Signal.__dict__["connect"] is not DJANGOS  # (placed again)
        assert Signal.__dict__["connect"] is DJANGOS

    def test_a_connection_made_meanwhile_waiting_for_its_model_is_listed_as_pending(
        self,
    ) -> None:
        nowhere = ("recordingtests", "nowhere")
        try:
            with recording() as made:
                post_save.connect(on_event, sender="recordingtests.Nowhere")
            [pending] = pending_connections(nowhere)
            assert (pending.signal, pending.receiver) == (post_save, on_event)
            assert [(w.signal, w.receiver, w.model) for w in made.waiting] == [
                (post_save, on_event, nowhere)
            ]
            # (Django's own check tells it, as it tells one made any other time.)
            [error] = [e for e in check_lazy_references(None) if "recordingtests" in e.msg]
            assert error.msg == (
                "The function 'on_event' was connected to the 'post_save' signal with a "
                "lazy reference to the sender 'recordingtests.nowhere', but app "
                "'recordingtests' isn't installed."
            )
        finally:
            apps._pending_operations.pop(nowhere, None)
