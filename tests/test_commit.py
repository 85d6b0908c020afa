from __future__ import annotations

import contextvars
import logging
from typing import Any

import pytest
from django.db import transaction
from django.dispatch import Signal as DjangoSignal

import signalkit
from signalkit import audit
from signalkit.audit.context import current as audit_context
from signalkit.dispatch import Signal
from signalkit.testing import capture_signals, mute_signals

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "other"])


class SendOnCommitTests:
    def setup_method(self) -> None:
        self.signal = Signal("committed")
        self.received: list[dict[str, Any]] = []
        self.signal.connect(self.on_signal)

    def on_signal(self, sender: Any, **kwargs: Any) -> None:
        self.received.append({"sender": sender, **kwargs})

    def test_sent_at_once_in_autocommit(self) -> None:
        signalkit.send_on_commit(self.signal, "s", value=1)
        assert self.received == [{"sender": "s", "signal": self.signal, "value": 1}]

    def test_sent_after_commit(self) -> None:
        with transaction.atomic():
            signalkit.send_on_commit(self.signal, "s", value=1)
            assert self.received == []
        assert len(self.received) == 1

    def test_never_sent_for_rollback(self) -> None:
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            signalkit.send_on_commit(self.signal, "s")
            raise ZeroDivisionError
        assert self.received == []

    def test_never_sent_for_rolled_back_savepoint(self) -> None:
        with transaction.atomic():
            signalkit.send_on_commit(self.signal, "outer")
            with pytest.raises(ZeroDivisionError), transaction.atomic():
                signalkit.send_on_commit(self.signal, "inner")
                raise ZeroDivisionError
        assert [item["sender"] for item in self.received] == ["outer"]

    def test_a_mute_around_the_call_applies_though_it_ends_before_the_commit(self) -> None:
        with transaction.atomic():
            with mute_signals(self.signal):
                signalkit.send_on_commit(self.signal, "muted")
            signalkit.send_on_commit(self.signal, "heard")
        assert [item["sender"] for item in self.received] == ["heard"]

    def test_a_process_wide_mute_around_the_call_applies_though_it_ends_before_the_commit(
        self,
    ) -> None:
        with transaction.atomic():
            with mute_signals(self.signal, scope="process"):
                signalkit.send_on_commit(self.signal, "muted")
            signalkit.send_on_commit(self.signal, "heard")
        assert [item["sender"] for item in self.received] == ["heard"]

    def test_a_mute_that_ended_before_the_call_does_not_apply(self) -> None:
        # The call runs in a context copied inside a block that has ended since.
        with mute_signals(self.signal):
            copied = contextvars.copy_context()
        with transaction.atomic():
            copied.run(signalkit.send_on_commit, self.signal, "heard")
        assert [item["sender"] for item in self.received] == ["heard"]

    def test_the_audit_context_of_the_call_reaches_the_receivers(self) -> None:
        actors: list[Any] = []
        self.signal.connect(lambda sender, **kwargs: actors.append(audit_context()), weak=False)
        with transaction.atomic(), audit.context(actor="importer"):
            signalkit.send_on_commit(self.signal, "s")
        assert [ctx.actor if ctx else None for ctx in actors] == ["importer"]

    def test_using_kwarg_selects_the_database_and_is_forwarded(self) -> None:
        with transaction.atomic(using="other"):
            signalkit.send_on_commit(self.signal, "s", using="other")
            assert self.received == []
        assert self.received == [{"sender": "s", "signal": self.signal, "using": "other"}]

    def test_db_argument_wins_over_using(self) -> None:
        with transaction.atomic(using="default"):
            signalkit.send_on_commit(self.signal, "s", db="default", using="other")
            assert self.received == []
        assert self.received[0]["using"] == "other"

    def test_transaction_on_another_database_does_not_delay(self) -> None:
        with transaction.atomic(using="other"):
            signalkit.send_on_commit(self.signal, "s")
            assert len(self.received) == 1

    @pytest.mark.parametrize("signal", ["myapp.signals.committed", None])
    def test_something_else_than_a_signal_is_refused_at_the_call(self, signal: Any) -> None:
        raised: list[str] = []
        with transaction.atomic():
            try:
                signalkit.send_on_commit(signal, "s")
            except TypeError as err:  # at the call, not from the commit
                raised.append(str(err))
        assert raised == [f"signal must be a django.dispatch.Signal, not {signal!r}."]
        assert self.received == []

    def test_robust_logs_and_continues(self, caplog: pytest.LogCaptureFixture) -> None:
        def failing(sender: Any, **kwargs: Any) -> None:
            raise RuntimeError("receiver failed")

        signal = Signal("robustly_committed")
        signal.connect(failing)
        signal.connect(self.on_signal)
        with caplog.at_level(logging.ERROR, logger="signalkit.dispatch"), transaction.atomic():
            signalkit.send_on_commit(signal, "s")
        assert len(self.received) == 1
        assert "receiver failed" in caplog.records[0].getMessage()
        assert "SendOnCommitTests.test_robust_logs_and_continues.<locals>.failing" in (
            caplog.records[0].getMessage()
        )

    def test_a_sender_a_caching_signal_cannot_look_up_is_refused_at_the_call(self) -> None:
        signal = Signal("cached_committed", use_caching=True)
        signal.connect(self.on_signal)
        with transaction.atomic(), pytest.raises(TypeError, match="weak reference"):
            signalkit.send_on_commit(signal, None)
        assert self.received == []

    def test_not_robust_raises_from_commit(self) -> None:
        def failing(sender: Any, **kwargs: Any) -> None:
            raise RuntimeError("receiver failed")

        signal = Signal("fragile")
        signal.connect(failing)
        with pytest.raises(RuntimeError, match="receiver failed"), transaction.atomic():
            signalkit.send_on_commit(signal, "s", robust=False)

    def test_not_robust_failure_skips_the_later_receivers_and_callbacks(self) -> None:
        # As for any transaction.on_commit() callback that raises: the data is
        # committed, what was due after the failing receiver never runs.
        def failing(sender: Any, **kwargs: Any) -> None:
            raise RuntimeError("receiver failed")

        signal = Signal("fragile_first")
        signal.connect(failing)
        signal.connect(self.on_signal)
        later: list[str] = []
        with pytest.raises(RuntimeError, match="receiver failed"), transaction.atomic():
            signalkit.send_on_commit(signal, "s", robust=False)
            transaction.on_commit(lambda: later.append("callback"))
        assert (self.received, later) == ([], [])


class SendOnCommitThroughSignalMethodsTests:
    """Robust or not, the send goes through the signal's own send methods."""

    def setup_method(self) -> None:
        self.strict = Signal("strict_committed", args=["value"], strict=True)
        self.plain = DjangoSignal()
        self.received: list[dict[str, Any]] = []
        self.strict.connect(self.on_signal)
        self.plain.connect(self.on_signal)

    def on_signal(self, sender: Any, **kwargs: Any) -> None:
        self.received.append(kwargs)

    @pytest.mark.parametrize("robust", [True, False])
    def test_captured(self, robust: bool) -> None:
        with capture_signals() as capture, transaction.atomic():
            signalkit.send_on_commit(self.strict, "s", robust=robust, value=1)
            signalkit.send_on_commit(self.plain, "s", robust=robust, value=2)
        capture.assert_sent(self.strict, sender="s", count=1, value=1)
        capture.assert_sent(self.plain, sender="s", count=1, value=2)
        assert len(self.received) == 2

    @pytest.mark.parametrize("robust", [True, False])
    def test_strict_arguments_checked_at_the_call(self, robust: bool) -> None:
        with transaction.atomic():
            with pytest.raises(TypeError, match="unexpected 'other'"):
                signalkit.send_on_commit(self.strict, "s", robust=robust, other=1)
            with pytest.raises(TypeError, match="missing 'value'"):
                signalkit.send_on_commit(self.strict, "s", robust=robust)
        assert self.received == []
