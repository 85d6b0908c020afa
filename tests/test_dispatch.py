from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import sys
import time
import types
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.dispatch import Signal as DjangoSignal

import signalkit
from signalkit.dispatch import Signal, defined_signals
from signalkit.registry import registry
from tests.registryapp import custom

order_placed = signalkit.define_signal(
    "order_placed", doc="An order was placed.", args=("order", "total"), strict=True
)


class Exploding:
    def __call__(self, sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")


def explode(sender: Any, *, reason: str, **kwargs: Any) -> None:
    raise RuntimeError(reason)


class SignalTests:
    def test_is_a_django_signal_with_its_documentation(self) -> None:
        signal = Signal("thing_happened", doc="A thing happened.", args=["thing"])
        assert isinstance(signal, DjangoSignal)
        assert (signal.name, signal.module, signal.path) == (
            "thing_happened",
            __name__,
            f"{__name__}.thing_happened",
        )
        assert signal.doc == "A thing happened."
        assert signal.args == ("thing",)
        assert not signal.strict
        assert repr(signal) == f"<signalkit.Signal {__name__}.thing_happened>"

    def test_define_signal_registers_it_in_the_callers_module(self) -> None:
        assert order_placed.path == f"{__name__}.order_placed"
        assert order_placed in defined_signals()

    def test_subclass_with_its_own_init_records_the_callers_module(self) -> None:
        shipped = custom.StrictSignal("order_shipped", args=("order",))
        audited = custom.AuditedSignal("order_audited")
        assert shipped.path == f"{__name__}.order_shipped"
        assert shipped.strict
        assert audited.path == f"{__name__}.order_audited"
        assert audited.doc == "Audited."
        assert registry.get(f"{__name__}.order_shipped").signal is shipped

    def test_unnamed_signal_is_registered_too(self) -> None:
        signal = Signal()
        assert signal in defined_signals()
        assert signal.name is None

    def test_creating_an_unnamed_signal_does_not_scan_its_module(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A signal is bound to no variable while it is created: a scan of its
        # module then finds nothing, and made every Signal() created at run
        # time (in a function, per object) walk its module's namespace.
        scanned: list[str] = []
        monkeypatch.setattr(
            "signalkit.dispatch.name_in_module",
            lambda obj, module: scanned.append(module),
        )
        signal = Signal(args=["order"])
        assert scanned == []
        assert signal in defined_signals()

    def test_registry_holds_no_strong_reference(self) -> None:
        import gc

        gc.collect()  # strict signals of earlier tests are cyclic garbage
        count = len(defined_signals())
        Signal("short_lived")
        gc.collect()
        assert len(defined_signals()) == count

    def test_not_strict_accepts_any_arguments(self) -> None:
        signal = Signal("loose", args=["a"])
        assert signal.send(None, b=1) == []

    @pytest.mark.parametrize("args", ["post", b"post"])
    def test_args_given_as_one_string_is_a_type_error(self, args: Any) -> None:
        with pytest.raises(TypeError, match=r"args must be a list of argument names, not "):
            Signal("one_string", args=args, strict=True)
        with pytest.raises(TypeError, match=r"args must be a list of argument names, not "):
            signalkit.define_signal("one_string", args=args)

    def test_args_that_are_not_names_are_a_type_error(self) -> None:
        with pytest.raises(TypeError, match=r"args must name each argument as a string, not 1"):
            Signal("numbered", args=["post", 1])  # type: ignore[list-item]

    @pytest.mark.parametrize("name", ["sender", "signal"])
    def test_args_naming_what_every_send_passes_is_a_value_error(self, name: str) -> None:
        with pytest.raises(ValueError, match=f"args names {name!r}"):
            Signal("reserved", args=["post", name], strict=True)

    @pytest.mark.parametrize(
        ("args", "why"),
        [(["a b"], "not a keyword argument name"), ([""], "not a keyword"), (["a", "a"], "twice")],
    )
    def test_args_no_receiver_could_take_are_a_value_error(self, args: Any, why: str) -> None:
        with pytest.raises(ValueError, match=why):
            Signal("odd", args=args, strict=True)

    def test_args_none_declares_none(self) -> None:
        assert Signal("bare", args=None).args == ()  # type: ignore[arg-type]

    def test_caching_signal(self) -> None:
        signal = Signal("cached", use_caching=True)
        received: list[Any] = []

        class Sender:
            pass

        def on_send(sender: Any, **kwargs: Any) -> None:
            received.append(sender)

        signal.connect(on_send, sender=Sender)
        signal.send(Sender)
        signal.send(Sender)
        assert received == [Sender, Sender]


class StrictSignalTests:
    def test_send_with_declared_arguments(self) -> None:
        received: list[dict[str, Any]] = []

        def on_order(sender: Any, **kwargs: Any) -> None:
            received.append(kwargs)

        order_placed.connect(on_order)
        try:
            order_placed.send(None, order=1, total=2)
        finally:
            order_placed.disconnect(on_order)
        assert received == [{"signal": order_placed, "order": 1, "total": 2}]

    @pytest.mark.parametrize("method", ["send", "send_robust"])
    def test_sync_methods_refuse_missing_and_unexpected(self, method: str) -> None:
        with pytest.raises(TypeError) as info:
            getattr(order_placed, method)(None, order=1, totl=2)
        assert str(info.value) == (
            f"{__name__}.order_placed takes the arguments 'order', 'total': "
            "missing 'total'; unexpected 'totl'."
        )

    @pytest.mark.parametrize("method", ["asend", "asend_robust"])
    def test_async_methods_refuse_missing(self, method: str) -> None:
        with pytest.raises(TypeError, match="missing 'total'"):
            asyncio.run(getattr(order_placed, method)(None, order=1))

    @pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
    def test_a_subclass_overriding_a_send_method_keeps_it_when_strict(self, method: str) -> None:
        calls: list[str] = []

        class Counting(Signal):
            def send(self, sender: Any, **named: Any) -> Any:
                calls.append("send")
                return super().send(sender, **named)

            def send_robust(self, sender: Any, **named: Any) -> Any:
                calls.append("send_robust")
                return super().send_robust(sender, **named)

            async def asend(self, sender: Any, **named: Any) -> Any:
                calls.append("asend")
                return await super().asend(sender, **named)

            async def asend_robust(self, sender: Any, **named: Any) -> Any:
                calls.append("asend_robust")
                return await super().asend_robust(sender, **named)

        signal = Counting("counting", args=["x"], strict=True)
        result = getattr(signal, method)(None, x=1)
        if method.startswith("a"):
            asyncio.run(result)
        assert calls == [method]
        with pytest.raises(TypeError, match="missing 'x'"):
            result = getattr(signal, method)(None)
            if method.startswith("a"):
                asyncio.run(result)
        assert calls == [method]

    @pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
    def test_positional_misuse_is_reported_as_by_django(self, method: str) -> None:
        # The same TypeError as a signal that is not strict: not one naming
        # signalkit's internal wrapper, with a count that leaves out self.
        loose = Signal("loose_positional", args=("order", "total"))
        messages = []
        for signal in (order_placed, loose):
            send = getattr(signal, method)
            for args in ((None, 1), ()):
                with pytest.raises(TypeError) as info:
                    send(*args, order=1, total=2)
                messages.append(str(info.value))
        assert messages[:2] == messages[2:]
        assert messages[1] == f"Signal.{method}() missing 1 required positional argument: 'sender'"

    def test_signal_without_arguments(self) -> None:
        signal = Signal("bare", strict=True)
        with pytest.raises(TypeError, match="takes no arguments: unexpected 'x'"):
            signal.send(None, x=1)

    def test_unnamed_signal_names_its_variable_before_any_listing(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        module = types.ModuleType("tests.shop_signals")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        signal = Signal(args=["order"], strict=True, module=module.__name__)
        module.order_lost = signal  # type: ignore[attr-defined]
        with pytest.raises(TypeError) as info:
            signal.send(None)
        assert str(info.value) == (
            "tests.shop_signals.order_lost takes the argument 'order': missing 'order'."
        )
        assert repr(signal) == "<signalkit.Signal tests.shop_signals.order_lost>"


class SendRobustTests:
    def test_logs_partials_and_callable_objects_by_key(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        signal = Signal("robust")
        partial = functools.partial(explode, reason="partial failed")
        instance = Exploding()
        signal.connect(partial)
        signal.connect(instance)
        with caplog.at_level(logging.ERROR, logger="signalkit.dispatch"):
            responses = signal.send_robust(None)
        assert [type(response) for _, response in responses] == [RuntimeError, RuntimeError]
        assert [record.getMessage() for record in caplog.records] == [
            f"Error calling receiver {__name__}.explode of {signal!r} in send_robust(): "
            "partial failed",
            f"Error calling receiver {__name__}.Exploding of {signal!r} in send_robust(): boom",
        ]

    def test_async_robust_collects_errors(self, caplog: pytest.LogCaptureFixture) -> None:
        signal = Signal("async_robust")

        async def failing(sender: Any, **kwargs: Any) -> None:
            raise ValueError("async failed")

        def working(sender: Any, **kwargs: Any) -> str:
            return "ok"

        signal.connect(failing)
        signal.connect(working)
        with caplog.at_level(logging.ERROR, logger="signalkit.dispatch"):
            responses = asyncio.run(signal.asend_robust(None))
            sync_responses = signal.send_robust(None)
        assert [(receiver, str(response)) for receiver, response in responses] == [
            (working, "ok"),
            (failing, "async failed"),
        ]
        assert [(receiver, str(response)) for receiver, response in sync_responses] == [
            (working, "ok"),
            (failing, "async failed"),
        ]
        assert len(caplog.records) == 2

    def test_no_receivers(self) -> None:
        assert Signal("empty").send_robust(None) == []
        assert asyncio.run(Signal("empty_async").asend_robust(None)) == []


seen_by_sender: contextvars.ContextVar[str] = contextvars.ContextVar(
    "seen_by_sender", default="unset"
)


async def set_context_variable(sender: Any, **kwargs: Any) -> None:
    seen_by_sender.set("set by receiver")


class RobustContextTests:
    """A context variable an async receiver sets reaches the sender of a robust send
    exactly when it does for Django's own send_robust (copied back from 6.1 on)."""

    def after_async_send(self, signal: DjangoSignal, method: str) -> str:
        signal.connect(set_context_variable)

        async def send() -> str:
            await getattr(signal, method)(None)
            return seen_by_sender.get()

        return asyncio.run(send())

    def after_sync_send(self, signal: DjangoSignal, method: str) -> str:
        signal.connect(set_context_variable)

        def send() -> str:
            getattr(signal, method)(None)
            return seen_by_sender.get()

        return contextvars.copy_context().run(send)

    @pytest.mark.parametrize("method", ["asend", "asend_robust"])
    def test_async_send_like_django(self, method: str) -> None:
        expected = self.after_async_send(DjangoSignal(), method)
        assert self.after_async_send(Signal("context_async"), method) == expected

    @pytest.mark.parametrize("method", ["send", "send_robust"])
    def test_sync_send_like_django(self, method: str) -> None:
        expected = self.after_sync_send(DjangoSignal(), method)
        assert self.after_sync_send(Signal("context_sync"), method) == expected


class NestedRobustSendTests:
    """A robust send from an async receiver while a sibling receiver of the
    enclosing send is in a sync_to_async() call (Django 6.1 runs them in one
    context, outside any ThreadSensitiveContext under asyncio.run())."""

    def inner_results(self, inner: DjangoSignal) -> Any:
        async def answer(sender: Any, **kwargs: Any) -> str:
            return "inner ok"

        async def busy(sender: Any, **kwargs: Any) -> None:
            await sync_to_async(time.sleep)(0.05)  # as an ORM call

        results: list[Any] = []

        async def sends_robustly(sender: Any, **kwargs: Any) -> None:
            await asyncio.sleep(0.01)  # while busy is in its call
            try:
                results.extend(response for _, response in await inner.asend_robust(None))
            except RuntimeError as error:
                results.append(error)

        inner.connect(answer, weak=False)
        outer = DjangoSignal()
        outer.connect(busy, weak=False)
        outer.connect(sends_robustly, weak=False)
        asyncio.run(outer.asend(None))
        return results

    def test_like_django(self) -> None:
        assert self.inner_results(DjangoSignal()) == ["inner ok"]
        # (It read its receivers through a thread-sensitive call: on 6.1,
        # "Single thread executor already being used, would deadlock".)
        assert self.inner_results(Signal("nested_robust")) == ["inner ok"]


def set_context_variable_sync(sender: Any, **kwargs: Any) -> None:
    seen_by_sender.set("set by a sync receiver")


seen_by_async_receivers: list[str] = []


async def read_context_variable(sender: Any, **kwargs: Any) -> None:
    seen_by_async_receivers.append(seen_by_sender.get())


class RobustOrderTests:
    """Sync and async receivers of an async robust send run as Django runs them:
    side by side, each group in a context of its own, before 6.1; the sync ones
    first from 6.1 on."""

    def seen_after(self, signal: DjangoSignal, method: str) -> list[str]:
        signal.connect(set_context_variable_sync, weak=False)
        signal.connect(read_context_variable, weak=False)
        seen_by_async_receivers.clear()

        async def send() -> None:
            await getattr(signal, method)(None)

        contextvars.copy_context().run(asyncio.run, send())
        return list(seen_by_async_receivers)

    @pytest.mark.parametrize("method", ["asend", "asend_robust"])
    def test_like_django(self, method: str) -> None:
        expected = self.seen_after(DjangoSignal(), method)
        assert self.seen_after(Signal("order_async"), method) == expected
