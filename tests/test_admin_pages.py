from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, F
from django.test import TestCase, TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse_lazy

import signalkit.audit as audit
from signalkit.admin import AuditEventAdmin, EstimatedCountPaginator
from signalkit.models import AuditEvent
from tests.audit_utils import audited

URL = reverse_lazy("admin:signalkit_auditevent_changelist")


def newest(**lookups: str) -> list[int]:
    """The keys of the first page of the events matching ``lookups``."""
    events = AuditEvent.objects.filter(**lookups).order_by("-occurred_at", "-pk")
    return list(events.values_list("pk", flat=True)[: AuditEventAdmin.list_per_page])


@audited()
class PageTests(TestCase):
    """A page of the log is read as its keys, then as the rows of those keys."""

    def setUp(self) -> None:
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        for n in range(5):
            audit.record("exported", extra={"n": n})

    def page(self, **params: str) -> tuple[list[int], list[str]]:
        with (
            mock.patch.object(AuditEventAdmin, "list_per_page", 2),
            CaptureQueriesContext(connection) as queries,
        ):
            response = self.client.get(URL, params)
        assert response.status_code == 200
        logged = [q["sql"] for q in queries if "signalkit_auditevent" in q["sql"]]
        return [event.pk for event in response.context["cl"].result_list], logged

    def test_the_rows_are_found_by_their_keys_alone(self) -> None:
        exported = list(
            AuditEvent.objects.filter(action="exported")
            .order_by("-occurred_at", "-pk")
            .values_list("pk", flat=True)
        )
        for number, expected in ((1, exported[:2]), (2, exported[2:4]), (3, exported[4:])):
            keys, logged = self.page(action="exported", p=str(number))
            assert keys == expected, number
            *_, found, rows = logged
            # The keys, from the filter's index; the rows, by key (a repeated
            # filter lets SQLite walk that index through every match instead).
            assert "LIMIT" in found
            assert "action" not in found.split("FROM")[0]
            assert "LIMIT" not in rows
            assert "action" not in rows.split("WHERE")[1]

    def test_querysets_a_key_cannot_stand_for_are_sliced(self) -> None:
        for name in ("a", "b"):
            User.objects.create(username=name)
        # Groups, annotations, a relation in the order: pages are sliced as
        # Django slices them, in one query.
        querysets: list[Any] = [
            AuditEvent.objects.values("action").annotate(n=Count("id")).order_by("action"),
            AuditEvent.objects.annotate(day=F("occurred_at")).order_by("-day", "pk"),
            AuditEvent.objects.order_by("?"),
            User.objects.order_by("groups__name", "pk"),
        ]
        for queryset in querysets:
            paginator = EstimatedCountPaginator(queryset, 2)
            assert paginator.count > 2, queryset.query
            with CaptureQueriesContext(connection) as queries:
                got = list(paginator.page(1).object_list)
            assert len(got) == 2, queryset.query
            assert len(queries) == 1, queryset.query

    def test_a_search_filters_the_one_column_that_holds_the_term(self) -> None:
        for _ in range(3):
            AuditEvent.objects.create(action="sent", correlation_id="req-7")
        keys, logged = self.page(q="req-7")
        assert keys == newest(correlation_id="req-7")[:2]
        assert not [sql for sql in logged if " OR " in sql]
        # A term that is an actor id and a correlation id finds both.
        actor = AuditEvent.objects.create(action="custom", actor_id="req-7")
        keys, logged = self.page(q="req-7")
        assert keys == [actor.pk, newest(correlation_id="req-7")[0]]
        assert [sql for sql in logged if " OR " in sql]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
class OldEventsPlanTests(TransactionTestCase):
    """Each filter's page comes from its own index, also when its events are all
    old: the planner preferred walking the time index back from now, reading
    and skipping every newer event (a fifth of a second at 1.6 million events)."""

    recent = 40_000
    old = 2_500  # for each filter: about 5 % of the log, older than the rest

    def setUp(self) -> None:
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        columns = "occurred_at, action, model_label, actor_id"
        with connection.cursor() as cursor:
            # Oldest first, as a log grows: the time index follows the table.
            cursor.execute(
                f"""
                INSERT INTO signalkit_auditevent ({columns}, object_pk, object_repr,
                    changes, actor_repr, correlation_id, txid, extra)
                SELECT {columns}, '1', '', '{{}}', '', md5(n::text), '', '{{}}' FROM (
                    SELECT n, now() - interval '3 years' + n * interval '1 minute',
                        'import', 'shop.Product', '7'
                    FROM generate_series(1, %(old)s) n
                    UNION ALL
                    SELECT n, now() - interval '2 years' + n * interval '1 minute',
                        'update', 'legacy.Order', '8'
                    FROM generate_series(1, %(old)s) n
                    UNION ALL
                    SELECT n, now() - interval '1 year' - interval '1 day'
                        + n * interval '1 minute', 'update', 'shop.Product', 'import-bot'
                    FROM generate_series(1, %(old)s) n
                    UNION ALL
                    SELECT n, now() - interval '1 year' + n * interval '10 minutes',
                        (ARRAY['create', 'update', 'delete'])[1 + n %% 3],
                        'shop.M' || n %% 40, (n %% 1000)::text
                    FROM generate_series(1, %(recent)s) n
                ) AS generated (n, {columns})
                ORDER BY occurred_at
                """,
                {"old": self.old, "recent": self.recent},
            )
            # As autovacuum leaves an append-only table: analyzed, pages all-visible.
            cursor.execute("VACUUM ANALYZE signalkit_auditevent")

    def test_each_filter_pages_through_its_own_index(self) -> None:
        cases = [
            ({"action": "import"}, "signalkit_audit_action", {"action": "import"}),
            ({"model_label": "legacy.Order"}, "signalkit_audit_model", {}),
            ({"actor_id": "import-bot"}, "signalkit_audit_actor", {}),
            ({"q": "import-bot"}, "signalkit_audit_actor", {"actor_id": "import-bot"}),
        ]
        for params, index, matching in cases:
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(URL, params)
            assert response.status_code == 200, params
            keys = [event.pk for event in response.context["cl"].result_list]
            assert keys == newest(**(matching or params)), params
            [found] = [q["sql"] for q in queries if "LIMIT 100" in q["sql"]]
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN {found}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            assert f"Index Only Scan Backward using {index} " in plan, (params, plan)
            assert "signalkit_audit_time" not in plan, (params, plan)
            assert "Sort" not in plan, (params, plan)
