"""What is known of a save in progress (:class:`Frame`), and what the audit's
``post_save`` receiver learns of it when the save ends (:class:`Ending`); see
:mod:`signalkit.audit.saves`."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import FrameType

Snapshot = dict[str, Any]

_numbers = itertools.count()


class Frame:
    """One save in progress."""

    __slots__ = (
        "call",
        "carried",
        "checked",
        "deleted",
        "expecting",
        "kept",
        "number",
        "raw",
        "thread",
        "update_fields",
        "updated",
        "written",
    )

    def __init__(self, thread: int, call: FrameType | None = None) -> None:
        self.number = next(_numbers)  # saves that start later have higher numbers
        self.thread = thread
        # The primary key of the instance, if a receiver of the save deleted
        # it since (Django sets it to None).
        self.deleted: Any = None
        # A save that bypassed the wrapper (``Model.save_base(instance)``)
        # nested in a wrapped one: its signals push and pop its frame, which
        # knows the save by the Python frame of its call of Django's save_base.
        self.call = call
        # From the audit's pre_save receiver to its post_save receiver.
        self.checked = False
        # The save has started writing (after its pre_save): a refresh now reads
        # what it wrote, not the old values.
        self.written = False
        # What the newest _save_table() of the save returned once it wrote (the
        # instance's own table is written last): whether the save was an
        # update. None while a write is in progress or failed.
        # From the audit's pre_save receiver (a create's too) to its post_save
        # receiver. Set with it (left unset until then, at no cost to a save):
        # the save's arguments as its pre_save got them, and ``updated``.
        self.expecting = False
        self.raw: bool
        self.update_fields: frozenset[str] | None
        self.updated: bool | None
        # The save's old values, kept by a refresh in between (a 1-tuple: they
        # may be None).
        self.kept: tuple[Snapshot | None] | None = None
        # What saves nested in this one found in the fields they changed: what
        # this one wrote (read after it wrote, also if their own change rolled
        # back since). (nested frame's number, values)
        self.carried: list[tuple[int, Snapshot]] | None = None


class Ending:
    """What the audit's ``post_save`` receiver needs to know of its save."""

    __slots__ = ("deleted", "kept", "nested", "number", "written")

    def __init__(
        self,
        kept: tuple[Snapshot | None] | None,
        written: Snapshot | None,
        number: int,
        deleted: Any = None,
        nested: bool = False,
    ) -> None:
        # The save's old values, as a 1-tuple, if a refresh since its pre_save
        # replaced them; else None (the snapshot holds them).
        self.kept = kept
        # What the save wrote in fields that saves nested in it changed since.
        self.written = written
        self.number = number
        self.deleted = deleted  # see Frame
        # Another save of the instance is in progress (see nested()).
        self.nested = nested
