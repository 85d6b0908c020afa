"""Randomized transactions: whatever commits, rolls back or is copied, the log
tells the truth.

Each seed plays a random mix of creates, saves, deletes, custom events, nested
``atomic()`` blocks (some failing), manual savepoints (released, rolled back,
both, or left open), ``batch()`` blocks, reads of the log, deep copies and pickled copies, while
a model of what should commit is kept alongside. Then, per object, the update
events must chain (each old value is the previous new value, and the last new
value is what the database holds), no event may exist for a change that rolled
back, every committed change outside ``batch()`` has its event, and events are
ordered as their changes.
"""

from __future__ import annotations

import copy
import pickle
import random
from typing import Any
from unittest import mock

from django.db import transaction
from django.test import TransactionTestCase

import signalkit.audit as audit
from signalkit.audit import pending
from signalkit.models import AuditEvent
from tests.audit_utils import audited
from tests.auditapp.models import Account

# Django 6.1 renamed transaction.savepoint() (deprecated) to savepoint_create().
savepoint = getattr(transaction, "savepoint_create", None) or transaction.savepoint

# (kind, pk, value, made inside batch())
Change = tuple[str, int, Any, bool]


class Boom(Exception):
    pass


class Simulation:
    def __init__(self, seed: int, *, copies: bool) -> None:
        self.rng = random.Random(seed)
        self.copies = copies
        self.objects: dict[int, Account] = {}
        self.created: set[int] = set()
        # Changes of each open block, innermost last; ``log`` holds the committed ones.
        self.frames: list[list[Change]] = []
        self.log: list[Change] = []
        self.batch_depth = 0
        self.counter = 0

    # The model of what commits.

    def note(self, kind: str, pk: int, value: Any) -> None:
        (self.frames[-1] if self.frames else self.log).append(
            (kind, pk, value, self.batch_depth > 0)
        )

    def drop(self, start: int) -> None:
        for frame in self.frames[start:]:
            for kind, pk, _, _ in frame:
                if kind == "create":
                    self.objects.pop(pk, None)

    def keep(self, start: int) -> None:
        kept = [change for frame in self.frames[start:] for change in frame]
        del self.frames[start:]
        (self.frames[-1] if self.frames else self.log).extend(kept)

    # The workload.

    def value(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def create(self) -> None:
        account = Account.objects.create(name=self.value())
        self.objects[account.pk] = account
        self.created.add(account.pk)
        self.note("create", account.pk, account.name)

    def step(self, depth: int) -> None:
        roll, rng = self.rng.random(), self.rng
        pk = rng.choice(sorted(self.objects)) if self.objects else None
        if pk is None or roll < 0.07:
            self.create()
        elif roll < 0.10:
            self.objects.pop(pk).delete()
            self.note("delete", pk, None)
        elif roll < 0.14:
            action = self.value()
            audit.record(action, self.objects[pk])
            self.note("record", pk, action)
        elif roll < 0.50:
            account = self.objects[pk]
            account.name = self.value()
            if rng.random() < 0.3:
                account.save(update_fields=["name"])
            else:
                account.save()
            self.note("update", pk, account.name)
        elif roll < 0.58 and self.frames:
            AuditEvent.objects.count()  # writes what waits, inside the transaction
        elif roll < 0.64 and self.copies:
            if rng.random() < 0.5:
                self.objects[pk] = copy.deepcopy(self.objects[pk])
            else:
                self.objects[pk] = pickle.loads(pickle.dumps(self.objects[pk]))
        elif roll < 0.67 and not self.frames:
            self.objects[pk] = Account.objects.get(pk=pk)
        elif roll < 0.82 and depth < 4:
            self.block(depth + 1, batch=rng.random() < 0.3)
        elif self.frames and depth < 4:
            self.manual_savepoint(depth + 1)

    def block(self, depth: int, *, batch: bool) -> None:
        fail = self.rng.random() < 0.3
        start = len(self.frames)
        self.frames.append([])
        try:
            with audit.batch() if batch else transaction.atomic():
                self.batch_depth += batch
                try:
                    for _ in range(self.rng.randint(0, 5)):
                        self.step(depth)
                    if fail:
                        raise Boom
                finally:
                    self.batch_depth -= batch
        except Boom:
            self.drop(start)
            del self.frames[start:]
        else:
            self.keep(start)

    def manual_savepoint(self, depth: int) -> None:
        start = len(self.frames)
        sid = savepoint()
        self.frames.append([])
        for _ in range(self.rng.randint(0, 4)):
            self.step(depth)
        how = self.rng.choice(["release", "rollback", "rollback+release", "open"])
        if how.startswith("rollback"):
            transaction.savepoint_rollback(sid)
            self.drop(start)
            del self.frames[start + 1 :]
            self.frames[start] = []
        if how.endswith("release"):
            transaction.savepoint_commit(sid)
            self.keep(start)

    def run(self) -> None:
        for _ in range(self.rng.randint(1, 4)):
            self.create()
        for _ in range(self.rng.randint(2, 6)):
            if self.rng.random() < 0.2:
                self.step(4)
            else:
                self.block(0, batch=self.rng.random() < 0.3)

    # The checks.

    def check(self) -> None:
        position = {
            (pk, "<deleted>" if kind == "delete" else value): n
            for n, (kind, pk, value, _) in enumerate(self.log)
        }
        logged = list(
            AuditEvent.objects.filter(object_pk__in=[str(pk) for pk in self.created]).order_by("pk")
        )
        custom = [e for e in logged if e.action.startswith("v")]
        assert [e.action for e in custom] == [c[2] for c in self.log if c[0] == "record"]
        database = dict(Account.objects.filter(pk__in=self.created).values_list("pk", "name"))
        order = [(e.pk, position[(int(e.object_pk), e.action)]) for e in custom]
        for pk in self.created:
            changes = [c for c in self.log if c[1] == pk and c[0] != "record"]
            got = [e for e in logged if e.object_pk == str(pk) and not e.action.startswith("v")]
            if not changes:
                assert not got, f"{pk}: events of a rolled-back create"
                assert pk not in database
                continue
            order += self.check_object(pk, changes, got, database, position)
        assert [p for _, p in sorted(order)] == sorted(p for _, p in order), "event order"

    def check_object(
        self,
        pk: int,
        changes: list[Change],
        got: list[AuditEvent],
        database: dict[int, str],
        position: dict[tuple[int, Any], int],
    ) -> list[tuple[int, int]]:
        values = [value for kind, _, value, _ in changes if kind != "delete"]
        first = got[0]
        assert first.action == "create", f"{pk}: {[e.action for e in got]}"
        assert first.changes["name"][1] == values[0] or changes[0][3]
        previous = first.changes["name"][1]
        recorded = [previous]
        order = [(first.pk, position[(pk, values[0])])]
        for event in got[1:]:
            old, new = event.changes["name"]
            history = [e.changes["name"] for e in got]
            assert old == previous, f"{pk}: {old} != {previous} in {history}, {values}"
            if event.action == "delete":
                assert new is None
                assert changes[-1][0] == "delete"
                assert event is got[-1]
                order.append((event.pk, position[(pk, "<deleted>")]))
                break
            order.append((event.pk, position[(pk, values[values.index(old) + 1])]))
            recorded.append(new)
            previous = new
        else:
            assert changes[-1][0] != "delete", f"{pk}: no delete event"
            assert database[pk] == previous, f"{pk}: last {previous} != {database[pk]}"
        remaining = iter(values)
        assert all(value in remaining for value in recorded), f"{pk}: {recorded}, {values}"
        outside_batch = {v for kind, _, v, batch in changes if not batch and kind != "delete"}
        assert not outside_batch - set(recorded), f"{pk}: missing events"
        return order


@audited()
class RandomTransactionTests(TransactionTestCase):
    def run_seeds(self, seeds: range, *, limit: int, copies: bool = False) -> None:
        failed = []
        for seed in seeds:
            with mock.patch.object(pending, "LIMIT", limit):
                simulation = Simulation(seed, copies=copies)
                try:
                    simulation.run()
                    simulation.check()
                except AssertionError as error:
                    failed.append((seed, str(error)[:300]))
        assert not failed, failed[:5]

    def test_transactions_savepoints_and_batches(self) -> None:
        self.run_seeds(range(150), limit=2)

    def test_with_copies(self) -> None:
        self.run_seeds(range(150, 300), limit=3, copies=True)

    def test_with_on_error_log(self) -> None:
        with audited(ON_ERROR="log"):
            self.run_seeds(range(300, 400), limit=1)
