"""``send_on_commit``: send a signal once the current transaction commits."""

from __future__ import annotations

import contextvars
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.dispatch import Signal as DjangoSignal

from signalkit import gate, gated, mutestack
from signalkit.dispatch import Signal as SignalkitSignal

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from django.dispatch import Signal


def send_on_commit(
    signal: Signal, sender: Any, *, db: str | None = None, robust: bool = True, **kwargs: Any
) -> None:
    """Send ``signal`` when the transaction on database ``db`` commits.

    In autocommit it is sent at once; for a transaction or savepoint that rolls
    back it is never sent. ``db`` defaults to the ``using`` argument the signal
    carries (which receivers still get), else the default database. With
    ``robust=True`` a failing receiver is logged (by its key) and the others
    still run; with ``robust=False`` its exception propagates from the commit,
    and the receivers and commit callbacks due after it never run.
    A strict signal's arguments are checked at once, not at the commit. The
    send runs in the context of this call: mutes active here apply.
    """
    if not isinstance(signal, DjangoSignal):
        # Checked now: at the commit, the error would come after the data is in.
        raise TypeError(f"signal must be a django.dispatch.Signal, not {signal!r}.")
    if signal.use_caching:
        # What Django's send methods do first, here too: a sender a caching
        # signal cannot look up (None, a string) would raise only from the commit.
        signal.sender_receivers_cache.get(sender)
    using = db or kwargs.get("using") or DEFAULT_DB_ALIAS
    if isinstance(signal, SignalkitSignal) and signal.strict:
        signal.check_arguments(kwargs)

    def send() -> None:
        # Through the signal's own methods, looked up at commit time, so that
        # strict checks and signal captures see the send.
        if not robust:
            signal.send(sender, **kwargs)
        elif isinstance(signal, SignalkitSignal):
            signal.send_robust(sender, **kwargs)
        else:  # signalkit's send_robust logs a failing receiver by its key
            SignalkitSignal.send_robust(signal, sender, **kwargs)  # type: ignore[arg-type]

    transaction.on_commit(in_this_context(send), using=using)


_get_state = mutestack.state.get
_modules = sys.modules


def in_this_context(call: Callable[[], object]) -> Callable[[], None]:
    """``call``, to run later in a copy of the current context: a mute in force
    now applies though it ends before then, and receivers see the audit context
    (actor, request) of the code that runs now."""
    context = contextvars.copy_context()
    # A mute ends with its block, also for the context copied here: the mutes
    # in force now (context-local and process-wide) are kept by hand. (As
    # gate.active_mutes(), without its call where no block is entered: this
    # runs for every deferred receiver's send.)
    sending = gated.process_mutes if _get_state()[0] is None else gate.active_mutes()

    def run() -> None:
        # A copy per run: each run sets the captures and mutes of where it
        # runs, which must not stay for the next (a captured callback called
        # again by hand).
        here = gated.process_mutes if _get_state()[0] is None else gate.active_mutes()
        mutes = sending + here if here else sending
        captures = _captures_here()
        if captures is None and not mutes:
            context.copy().run(call)  # (what _rearmed() would do: nothing to set)
        else:
            context.copy().run(_rearmed, call, captures, mutes)

    return run


def _rearmed(
    call: Callable[[], object], captures: tuple[Any, ...] | None, mutes: tuple[gate.Mute, ...]
) -> None:
    if captures is not None:
        # The captures of where it runs, not of the send: a capture around the
        # commit sees what the call sends, one that ended since does not.
        sys.modules["signalkit.testing.capture"].set_active(captures)
    if not mutes:
        # The copied context holds only entries of blocks that had ended when it
        # was copied (any other would be among the mutes): they apply to nothing.
        call()
        return
    # The send's mutes (those that ended since too) and those of where it runs.
    with _rearmed_mutes(mutes):
        call()


@contextmanager
def _rearmed_mutes(mutes: tuple[gate.Mute, ...]) -> Iterator[None]:
    # Each entered anew, on a stack of their own: the copied context holds the
    # entries of the send's blocks, which no longer apply once those have ended.
    # The block ends these entries too, for the contexts the call copies. The
    # process-wide mutes in force now apply anyway.
    token = mutestack.state.set(mutestack.BOTTOM)
    entered: list[gate.Mute] = []
    try:
        for mute in mutes:
            if not any(mute is each for each in (*gate.process_mutes(), *entered)):
                gate.enter(mute)
                entered.append(mute)
        yield
    finally:
        for mute in reversed(entered):
            gate.leave(mute)
        mutestack.state.reset(token)


def _captures_here() -> tuple[Any, ...] | None:
    # Looked up, not imported: without the test helpers loaded there are none.
    capture = _modules.get("signalkit.testing.capture")
    return None if capture is None else capture.active()
