"""The audit with Django's async ORM: what sync_to_async runs keeps its context."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.test import TestCase

import signalkit.audit as audit
from signalkit.audit.context import current
from signalkit.models import AuditEvent
from tests.audit_utils import audited, run_sql
from tests.auditapp.models import Account, Label, Owner


async def aevents(**filters: Any) -> list[AuditEvent]:
    """The events of accounts (not those of the test's users, their logins)."""
    events = AuditEvent.objects.filter(model_label="auditapp.Account", **filters)
    return [event async for event in events.order_by("pk")]


@audited()
class AsyncOrmTests(TestCase):
    async def test_asave_and_adelete_are_recorded_with_the_context(self) -> None:
        with audit.context(actor="ann", job="sync"):
            account = Account(name="x")
            await account.asave()
            account.name = "y"
            await account.asave()
            await account.adelete()
        recorded = [
            (e.action, e.changes.get("name"), e.actor_repr, e.extra) for e in await aevents()
        ]
        assert recorded == [
            ("create", [None, "x"], "ann", {"job": "sync"}),
            ("update", ["x", "y"], "ann", {"job": "sync"}),
            ("delete", ["y", None], "ann", {"job": "sync"}),
        ]

    async def test_queryset_creates_and_updates(self) -> None:
        with audit.context(actor="bob"):
            await Account.objects.acreate(name="c")
            assert (await Account.objects.aget_or_create(name="d"))[1]
            assert not (await Account.objects.aget_or_create(name="d"))[1]
            await Account.objects.aupdate_or_create(name="c", defaults={"balance": 5})
        recorded = [(e.action, e.object_repr, e.actor_repr) for e in await aevents()]
        assert recorded == [("create", "c", "bob"), ("create", "d", "bob"), ("update", "c", "bob")]
        assert (await aevents(action="update"))[0].changes == {"balance": ["0.00", "5.00"]}

    async def test_related_managers_record_many_to_many_changes(self) -> None:
        account = await Account.objects.acreate(name="a")
        one, two = await Label.objects.acreate(name="1"), await Label.objects.acreate(name="2")
        with audit.context(actor="ann"):
            await account.labels.aadd(one, two)
            await account.labels.aremove(one)
            await account.labels.aset([one])
            await account.labels.aclear()
        recorded = [(e.action, e.changes["labels"]) for e in await aevents(actor_repr="ann")]
        assert recorded == [
            ("m2m_add", {"add": [one.pk, two.pk]}),
            ("m2m_remove", {"remove": [one.pk]}),
            ("m2m_remove", {"remove": [two.pk]}),
            ("m2m_add", {"add": [one.pk]}),
            ("m2m_clear", {"remove": [one.pk]}),
        ]

    async def test_arefresh_from_db_refreshes_the_old_values(self) -> None:
        account = await Account.objects.acreate(name="mine")
        await sync_to_async(run_sql)(
            "UPDATE auditapp_account SET name = 'theirs' WHERE id = %s", account.pk
        )
        await account.arefresh_from_db()
        account.name = "mine again"
        await account.asave()
        assert (await aevents(action="update"))[0].changes == {"name": ["theirs", "mine again"]}

    async def test_a_rolled_back_savepoint_in_sync_to_async_leaves_no_event(self) -> None:
        def work() -> None:
            with transaction.atomic():
                Account.objects.create(name="kept")
                with transaction.atomic():
                    Account.objects.create(name="dropped")
                    transaction.set_rollback(True)

        with audit.context(actor="svc"):
            await sync_to_async(work)()
        assert [(e.object_repr, e.actor_repr) for e in await aevents()] == [("kept", "svc")]

    async def test_batch_called_with_sync_to_async(self) -> None:
        def work() -> None:
            with audit.batch():
                account = Account.objects.create(name="b1")
                account.name = "b2"
                account.save()

        with audit.context(actor="svc"):
            await sync_to_async(work)()
        await Account.objects.acreate(name="after")  # no batch left open
        recorded = [(e.action, e.object_repr, e.actor_repr) for e in await aevents()]
        assert recorded == [("create", "b2", "svc"), ("create", "after", "")]

    async def test_gathered_decorated_coroutines_keep_their_actors(self) -> None:
        @audit.context(actor="worker")
        async def job(name: str, delay: float) -> None:
            await asyncio.sleep(delay)
            await Account.objects.acreate(name=name)
            with audit.context(actor=name):
                await asyncio.sleep(delay)
                await Account.objects.acreate(name=f"{name}-inner")

        await asyncio.gather(job("a", 0.02), job("b", 0), job("c", 0.01))
        actors = {e.object_repr: e.actor_repr for e in await aevents()}
        assert actors == {
            **dict.fromkeys("abc", "worker"),
            **{f"{name}-inner": name for name in "abc"},
        }
        assert current() is None

    async def test_record_and_history_from_async_code(self) -> None:
        account = await Account.objects.acreate(name="h")
        with audit.context(actor="ann"):
            event = await sync_to_async(audit.record)("exported", account, rows=1)
        assert (event.actor_repr, event.extra) == ("ann", {"rows": 1})
        assert [e.action async for e in audit.history(account)] == ["create", "exported"]

    async def test_a_reverse_relation_with_bulk_false_records_its_changes(self) -> None:
        owner = await Owner.objects.acreate(name="acme")
        account = await Account.objects.acreate(name="a")
        with audit.context(actor="ann"):
            await owner.account_set.aadd(account, bulk=False)
            await owner.account_set.aremove(account, bulk=False)
        recorded = [(e.changes, e.actor_repr) for e in await aevents(action="update")]
        assert recorded == [
            ({"owner": [None, owner.pk]}, "ann"),
            ({"owner": [owner.pk, None]}, "ann"),
        ]

    async def test_a_reverse_relation_bulk_add_is_recorded_by_the_next_save(self) -> None:
        # As the docs warn: Django writes it with QuerySet.update(), and sets
        # it on the instance, whose next save records it.
        owner = await Owner.objects.acreate(name="acme")
        account = await Account.objects.acreate(name="a")
        with audit.context(actor="ann"):
            await owner.account_set.aadd(account)
        assert await aevents(action="update") == []
        with audit.context(actor="bob"):
            await account.asave()
        recorded = [(e.changes, e.actor_repr) for e in await aevents(action="update")]
        assert recorded == [({"owner": [None, owner.pk]}, "bob")]
