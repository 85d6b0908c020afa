from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from django.dispatch import Signal

from signalkit.entries import (
    UNKNOWN,
    UnreadableEntryWarning,
    disconnect_where,
    make_id,
    read_entries,
    read_entry,
)
from tests.registryapp.handlers import (
    CallableReceiver,
    Handlers,
    decorated,
    make_local_receiver,
    on_event,
)


class Sender:
    pass


ANY = make_id(None)


class ReadEntryTests:
    def test_two_tuple_is_read_and_async_detected(self) -> None:
        entry = read_entry(((make_id(on_event), ANY), weakref.ref(on_event)))
        assert entry.receiver is on_event
        assert entry.weak
        assert not entry.is_async
        assert entry.dispatch_uid is None
        assert entry.sender is UNKNOWN

    def test_three_tuple_of_django_5_2(self) -> None:
        entry = read_entry(((make_id(on_event), id(Sender)), weakref.ref(on_event), True))
        assert entry.receiver is on_event
        assert entry.sender_id == id(Sender)
        assert entry.sender is UNKNOWN
        assert entry.is_async

    def test_four_tuple_of_django_6_carries_the_sender(self) -> None:
        raw = ((make_id(on_event), id(Sender)), weakref.ref(on_event), weakref.ref(Sender), False)
        entry = read_entry(raw)
        assert entry.sender is Sender
        assert not entry.is_async

    def test_four_tuple_without_sender_ref(self) -> None:
        entry = read_entry(((make_id(on_event), ANY), weakref.ref(on_event), None, False))
        assert entry.sender is UNKNOWN
        assert entry.sender_id == ANY

    def test_weak_method_gives_a_bound_method(self) -> None:
        handlers = Handlers()
        raw = ((make_id(handlers.method), ANY), weakref.WeakMethod(handlers.method), None, False)
        entry = read_entry(raw)
        assert entry.receiver == handlers.method
        assert entry.weak
        assert entry.dispatch_uid is None

    def test_strong_reference_is_the_receiver_itself(self) -> None:
        instance = CallableReceiver()
        entry = read_entry(((make_id(instance), ANY), instance, False))
        assert entry.receiver is instance
        assert not entry.weak
        assert not entry.dead

    def test_dead_weak_receiver_is_marked_dead(self) -> None:
        local = make_local_receiver()
        raw = ((make_id(local), ANY), weakref.ref(local), False)
        del local
        gc.collect()
        entry = read_entry(raw)
        assert entry.dead
        assert entry.receiver is None
        assert entry.dispatch_uid is None  # an id, not a uid

    @pytest.mark.parametrize("uid", ["app.uid", 42, ("a", 1), (1, 2)])
    def test_dispatch_uid_of_any_hashable_type(self, uid: Any) -> None:
        entry = read_entry(((uid, ANY), weakref.ref(on_event), False))
        assert entry.dispatch_uid == uid

    def test_dispatch_uid_of_a_dead_receiver_is_kept_unless_it_looks_like_an_id(self) -> None:
        local = make_local_receiver()
        ref = weakref.ref(local)
        del local
        gc.collect()
        assert read_entry((("app.uid", ANY), ref, False)).dispatch_uid == "app.uid"
        assert read_entry(((7, ANY), ref, False)).dispatch_uid is None

    @pytest.mark.parametrize(
        "raw",
        [
            "not a tuple",
            (),
            ((1, 2),),
            ((1, 2), None, None, False, "extra"),
            ((1, 2, 3), None, False),
            ((1, 2), None, "not a bool"),
            ((1, 2), None, "not a ref", False),
            [(1, 2), None, False],
        ],
    )
    def test_unknown_shape_is_an_unreadable_row_and_a_warning(self, raw: Any) -> None:
        with pytest.warns(UnreadableEntryWarning, match="cannot read"):
            entry = read_entry(raw)
        assert not entry.readable
        assert entry.raw is raw


class ReadEntriesTests:
    def test_reads_the_running_djangos_entries(self) -> None:
        signal = Signal()
        handlers = Handlers()
        instance = CallableReceiver()
        signal.connect(on_event)
        signal.connect(handlers.method, sender=Sender, dispatch_uid=("x", 1))
        signal.connect(instance, weak=False)
        entries = read_entries(signal)
        assert [e.receiver for e in entries] == [on_event, handlers.method, instance]
        assert [e.dispatch_uid for e in entries] == [None, ("x", 1), None]
        assert [e.weak for e in entries] == [True, True, False]
        assert entries[1].sender_id == id(Sender)
        assert entries[1].sender in (Sender, UNKNOWN)

    def test_never_takes_the_lock(self) -> None:
        signal = Signal()
        signal.connect(on_event)
        with signal.lock:  # another thread connecting would hold it
            assert [e.receiver for e in read_entries(signal)] == [on_event]


class DisconnectWhereTests:
    def test_entries_of_every_shape_by_lookup_key(self) -> None:
        signal = Signal(use_caching=True)
        instance = CallableReceiver()
        unknown = ("not", "an entry")
        signal.receivers = [
            ((make_id(on_event), ANY), weakref.ref(on_event)),
            ((make_id(decorated), id(Sender)), weakref.ref(decorated), False),
            ((make_id(instance), ANY), instance, None, False),
            ((make_id(on_event), id(Sender)), weakref.ref(on_event), weakref.ref(Sender), False),
            unknown,
        ]
        signal.sender_receivers_cache[Sender] = ["cached"]
        with pytest.warns(UnreadableEntryWarning):
            read_entries(signal)  # (disconnect_where() itself skips unknown shapes silently)
        chosen = (make_id(instance), ANY)
        assert disconnect_where(signal, lambda key, r: r is on_event or key == chosen) == 3
        assert signal.receivers == [
            ((make_id(decorated), id(Sender)), weakref.ref(decorated), False),
            unknown,
        ]
        assert not signal.sender_receivers_cache

    def test_selects_on_the_live_receiver_and_skips_dead_ones(self) -> None:
        signal = Signal()
        handlers = Handlers()
        local = make_local_receiver()
        signal.connect(handlers.method)
        signal.connect(local)
        del local
        gc.collect()
        seen: list[Any] = []

        def select(key: tuple[Any, Any], receiver: Any) -> bool:
            seen.append(receiver)
            return True

        assert disconnect_where(signal, select) == 1
        assert seen == [handlers.method]
        assert not signal.has_listeners()
