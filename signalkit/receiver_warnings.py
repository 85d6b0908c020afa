"""The messages of the receiver checks (:mod:`signalkit.receiver_checks`).

Built only when a check finds something: naming a sender or a receiver's file
costs a look at the models (or a scan of the loaded modules), never anything
at connect time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.checks import Warning

from signalkit.describe import Describer
from signalkit.render import one_line
from signalkit.scan import find_by_id
from signalkit.senders import SenderIndex

if TYPE_CHECKING:
    from signalkit.entries import Entry

_RUNS = {
    "immediate": "",
    "on_commit": " with on_commit=True",
    "offload": " with offload=True",
}


class Names:
    """Senders and receiver locations as ``listsignals`` shows them, for the
    messages of one run of the checks (looked up on first use)."""

    def __init__(self) -> None:
        self._senders: SenderIndex | None = None
        self._describer: Describer | None = None

    def sender(self, entry: Entry) -> str:
        """``the sender app_label.Model`` (a class path, an app config, a
        string...), or ``any sender``."""
        if self._senders is None:
            self._senders = SenderIndex()
        if not self._senders.knows(entry):  # look for it among module-level objects
            self._senders = SenderIndex(find_by_id({entry.sender_id}).values())
        label = self._senders.label(entry)
        return "any sender" if label is None else f"the sender {one_line(label)}"

    def location(self, receiver: Any) -> str:
        """`` (path/to/file.py:LINE)`` where ``receiver``'s code is, or ``""``."""
        if self._describer is None:
            self._describer = Describer()
        where = self._describer.location(receiver)
        return "" if where is None else f" ({where})"


def twice(key: str, where: str, path: str, mode: str, sender: str) -> Warning:
    return Warning(
        f"{key}{where} is connected twice{_RUNS[mode]} to {path} for {sender}, under "
        "different lookup keys (with and without a dispatch_uid, or two uids): it runs "
        "twice per signal.",
        hint="Remove one of the two connections, or give both the same dispatch_uid (or "
        "neither one), so that Django keeps only the first. To run it both at once and "
        "with on_commit=True (or offload=True) on purpose, connect it once each way, "
        "each with a dispatch_uid of its own.",
        id="signalkit.W010",
    )


def imported_twice(first: str, second: str, code: Any, path: str) -> Warning:
    return Warning(
        f"{first} and {second} are the same code ({code.co_filename}:{code.co_firstlineno}) "
        f"connected to {path} for the same sender: its module was imported under two "
        "names, so it runs twice per signal.",
        hint="Import the module by one dotted name only: look for a directory that is on "
        "sys.path both as itself and through its parent, and for imports that name the "
        "module differently (autodiscovery imports '<app>.signals' already).",
        id="signalkit.W013",
    )


def reloaded(key: str, code: Any, path: str) -> Warning:
    return Warning(
        f"{key} is connected twice to {path} for the same sender by the same code "
        f"({code.co_filename}:{code.co_firstlineno}) run twice: its module was executed "
        "again in place (importlib.reload()), which connected it again beside the "
        "function it replaced, so it runs twice per signal.",
        hint="Do not reload a module that connects receivers (restart the process), or "
        "disconnect them first. With a dispatch_uid, Django keeps the first connection "
        "(the old code) instead.",
        id="signalkit.W014",
    )


def local_receiver(key: str, path: str) -> Warning:
    return Warning(
        f"{key} is a weak receiver of {path} defined in a local scope: it is disconnected "
        "as soon as it is garbage-collected.",
        hint="Define it at module level, or connect it with weak=False.",
        id="signalkit.W011",
    )


def async_instance(key: str, path: str) -> Warning:
    return Warning(
        f"{key} is an object with an async __call__ connected to {path}; it is treated as "
        "synchronous (by Django, and by the commit or the worker that runs it deferred), "
        "so its coroutine is never awaited.",
        hint="Connect an async def function or method instead, or mark the object with "
        "asgiref.sync.markcoroutinefunction().",
        id="signalkit.W012",
    )
