"""The frames of saves in progress looked up across threads while a garbage
collection lets other threads run in the middle of the lookup.

On Python 3.11 a collection starts wherever C code allocates an object, also
in the middle of a copy, and runs Python code (finalizers, weakref callbacks,
``gc.callbacks``): the interpreter may switch threads there. (Python 3.12 and
later start one only between bytecodes, where the test passes anyway.)
"""

from __future__ import annotations

import gc
import sys
import threading
from typing import TYPE_CHECKING, Any

from django.test import SimpleTestCase

from signalkit.audit import saves
from tests.auditapp.models import Account

if TYPE_CHECKING:
    from types import FrameType

# At most so many collections let another thread start a save during the lookup.
STEPS = 5


class Held:
    """A thread holding saves of ``instances``, each nested in the one before,
    the innermost checked (past its ``pre_save``), until :meth:`end`. (No
    database: save_base() is a stand-in.)"""

    def __init__(self, instances: list[Account]) -> None:
        self.instances = instances
        self.parked, self.go = threading.Event(), threading.Event()
        self.wrapped = saves._wrap(self.save_base)
        self.thread = threading.Thread(target=self.wrapped, args=(instances[0],))
        self.thread.start()
        self.parked.wait()

    def save_base(self, instance: Account) -> None:
        if instance is self.instances[-1]:
            saves.check(instance, False, None)
            self.parked.set()
            self.go.wait()
            saves.end(instance)
        else:
            self.wrapped(self.instances[self.instances.index(instance) + 1])

    def end(self) -> None:
        self.go.set()
        self.thread.join()


def _in_lookup(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code is saves._all.__code__:
            return True
        frame = frame.f_back
    return False


class FramesLookedUpDuringACollectionTests(SimpleTestCase):
    def test_other_threads_start_saves_in_the_middle_of_the_lookup(self) -> None:
        account = Account(pk=1, name="a")
        # A save of the account in another thread, in 40 saves of other
        # instances there (as many entries to look through).
        holder = Held([*(Account(pk=pk, name="f") for pk in range(2, 42)), account])
        me = threading.get_ident()
        started: list[Held] = []
        # The objects a copy by C code allocates come from a free list while
        # it has some: used up, they are the collector's.
        used_up: list[tuple[int, int]] = []

        def collecting(phase: str, info: dict[str, Any]) -> None:
            # A collection that starts in this thread during the lookup: another
            # thread starts a save meanwhile.
            if phase != "start" or threading.get_ident() != me or len(started) == STEPS:
                return
            if _in_lookup(sys._getframe(1)):
                started.append(Held([Account(pk=100 + len(started), name="m")]))
                used_up.extend((number, -number) for number in range(3_000))

        threshold = gc.get_threshold()
        gc.callbacks.append(collecting)
        gc.set_threshold(1)
        try:
            used_up.extend((number, -number) for number in range(5_000))
            found = saves.nested(account)
        finally:
            gc.callbacks.remove(collecting)
            gc.set_threshold(*threshold)
            for held in [holder, *started]:
                held.end()
        assert len(used_up) >= 5_000
        # The held save of the account is found, whatever other threads did.
        assert found is True
        # (Other threads did start saves in the middle of it.)
        assert started or sys.version_info >= (3, 12)
        assert not saves._active
