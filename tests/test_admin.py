from __future__ import annotations

from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.db.models import Count, F
from django.test import RequestFactory, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, reverse_lazy
from django.utils import timezone

import signalkit.audit as audit
from signalkit.admin import AuditEventAdmin, EstimatedCountPaginator, audit_history_url
from signalkit.models import AuditEvent
from tests.audit_utils import audited
from tests.auditapp.admin import AccountAdmin, TicketAdmin
from tests.auditapp.models import Account, Label, Note, Ticket, VipAccount

if TYPE_CHECKING:
    from django.db.models import Model
    from django.http import HttpRequest


def query_plan(sql: str) -> str:
    """SQLite's plan for ``sql``, its steps joined."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


@audited()
class AuditEventAdminTests(TestCase):
    def setUp(self) -> None:
        self.admin = User.objects.create_superuser("root", password="pw")
        self.client.force_login(self.admin)
        self.account = Account.objects.create(name="acme")
        self.event = AuditEvent.objects.filter(model_label="auditapp.Account").get()

    def test_changelist_lists_and_filters_events(self) -> None:
        url = reverse("admin:signalkit_auditevent_changelist")
        response = self.client.get(url, {"action": "create", "model_label": "auditapp.Account"})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [self.event]
        searched = self.client.get(url, {"q": str(self.admin.pk)})
        assert self.event not in searched.context["cl"].result_list
        AuditEvent.objects.create(action="custom", correlation_id="Req-1")
        searched = self.client.get(url, {"q": "Req-1"})
        assert [e.correlation_id for e in searched.context["cl"].result_list] == ["Req-1"]
        if connection.vendor != "mysql":  # (its default collation ignores case)
            assert list(self.client.get(url, {"q": "req-1"}).context["cl"].result_list) == []

    def test_a_nul_in_a_filter_matches_nothing(self) -> None:
        # PostgreSQL refuses a NUL in a query: the page must still answer.
        # (Django's search form refuses one itself.)
        url = reverse("admin:signalkit_auditevent_changelist")
        for parameter in ("action", "model_label", "actor_id"):
            response = self.client.get(url, {parameter: "a\x00b"})
            assert response.status_code == 200, parameter
            assert list(response.context["cl"].result_list) == [], parameter

    def test_no_filter_reads_the_table_for_its_choices(self) -> None:
        url = reverse("admin:signalkit_auditevent_changelist")
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
        assert response.status_code == 200
        logged = [q["sql"] for q in queries if "signalkit_auditevent" in q["sql"]]
        assert logged
        assert not [sql for sql in logged if "DISTINCT" in sql.upper()]
        # Fixed choices, the audited models among them; the actor is a text box.
        content = response.content.decode()
        assert "?action=m2m_clear" in content
        assert "?model_label=auditapp.Account" in content
        assert 'name="actor_id"' in content

    def test_the_actor_box_keeps_the_other_parameters(self) -> None:
        url = reverse("admin:signalkit_auditevent_changelist")
        response = self.client.get(url, {"action": ["create", "update"], "q": '"><b>'})
        content = response.content.decode()
        form = content[content.index('name="actor_id"') - 400 : content.index('name="actor_id"')]
        assert 'name="action" value="create"' in form
        assert 'name="action" value="update"' in form
        assert 'name="q" value="&quot;&gt;&lt;b&gt;"' in form

    def test_every_filter_narrows_the_list_through_an_index(self) -> None:
        url = reverse("admin:signalkit_auditevent_changelist")
        with audit.context(self.admin):
            mine = audit.record("exported", self.account)
        everything = list(AuditEvent.objects.order_by("-occurred_at", "-pk"))
        cases = [
            ({"occurred_at__lt": "2000-01-01 00:00:00+00:00"}, []),
            ({"action": "exported"}, [mine]),  # a custom action, by URL
            ({"model_label": "auditapp.Account"}, [mine, self.event]),
            ({"actor_id": str(self.admin.pk)}, [mine, AuditEvent.objects.get(action="login")]),
            ({"occurred_at__gte": "2000-01-01 00:00:00+00:00"}, everything),
        ]
        for params, expected in cases:
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(url, params)
            got = list(response.context["cl"].result_list)
            assert [e.pk for e in got] == [e.pk for e in expected], params
            if connection.vendor == "sqlite":
                for sql in (q["sql"] for q in queries):
                    if 'FROM "signalkit_auditevent"' in sql and "WHERE" in sql:
                        plan = query_plan(sql)
                        # Found (not scanned) and ordered, newest first, by an index.
                        assert plan.startswith("SEARCH"), (params, plan)
                        assert "TEMP B-TREE" not in plan, (params, plan)

    def test_only_indexed_columns_sort_or_filter(self) -> None:
        # A column header or a URL lookup on another column sorts or scans the
        # whole log.
        url = reverse("admin:signalkit_auditevent_changelist")
        response = self.client.get(url, {"o": "5"})  # actor_repr
        assert response.status_code == 200
        assert "actor_repr" not in str(response.context["cl"].queryset.query.order_by)
        assert "sortable column-actor_repr" not in response.content.decode()
        for lookup in ("object_pk", "object_repr__icontains", "changes__name__0"):
            assert self.client.get(url, {lookup: "x"}).status_code == 400, lookup

    def test_nobody_can_add_change_or_delete(self) -> None:
        change = reverse("admin:signalkit_auditevent_change", args=[self.event.pk])
        response = self.client.get(change)
        assert response.status_code == 200
        assert b'name="_save"' not in response.content
        assert self.client.post(change, {"action": "forged"}).status_code == 403
        assert self.client.get(reverse("admin:signalkit_auditevent_add")).status_code == 403
        delete = reverse("admin:signalkit_auditevent_delete", args=[self.event.pk])
        assert self.client.post(delete, {"post": "yes"}).status_code == 403
        assert AuditEvent.objects.get(pk=self.event.pk).action == "create"


@audited()
class AuditHistoryMixinTests(TestCase):
    def setUp(self) -> None:
        self.account = Account.objects.create(name="acme")
        self.account.name = "acme 2"
        self.account.save()

    def test_history_view_shows_the_objects_events(self) -> None:
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        change = self.client.get(reverse("admin:auditapp_account_change", args=[self.account.pk]))
        url = audit_history_url(self.account)
        assert url.encode() in change.content
        response = self.client.get(url)
        assert response.status_code == 200
        assert [e.action for e in response.context["events"]] == ["update", "create"]
        # Values as stored: JSON, not Python reprs.
        assert "<code>[&quot;acme&quot;, &quot;acme 2&quot;]</code>" in response.content.decode()
        assert "[None," not in response.content.decode()

    def test_a_proxy_instance_links_to_its_models_history(self) -> None:
        # One history whichever class saved the object; VipAccount has no admin.
        vip = VipAccount.objects.get(pk=self.account.pk)
        assert audit_history_url(vip) == audit_history_url(self.account)
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        assert self.client.get(audit_history_url(vip)).status_code == 200

    def test_history_needs_view_permission(self) -> None:
        staff = User.objects.create_user("staff", password="pw", is_staff=True)
        self.client.force_login(staff)
        assert self.client.get(audit_history_url(self.account)).status_code == 403
        staff.user_permissions.add(Permission.objects.get(codename="view_account"))
        assert self.client.get(audit_history_url(self.account)).status_code == 200

    def test_text_keys_are_quoted_in_the_url(self) -> None:
        # "_40" is how the admin quotes "@": an unquoted key would be read back
        # as another one.
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        for code in ("SKU_40", "x/y?z#1"):
            ticket = Ticket.objects.create(code=code, title=f"ticket {code}")
            response = self.client.get(audit_history_url(ticket))
            assert response.status_code == 200
            assert [e.object_pk for e in response.context["events"]] == [code]

    def test_the_button_keeps_per_model_templates(self) -> None:
        # admin/auditapp/ticket/change_form.html (a test template) is still used.
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        ticket = Ticket.objects.create(code="T-1", title="t")
        response = self.client.get(reverse("admin:auditapp_ticket_change", args=["T-1"]))
        assert b'id="per-model-template"' in response.content
        assert audit_history_url(ticket).encode() in response.content

    def test_the_button_keeps_the_model_admins_own_template(self) -> None:
        class OwnTemplateAdmin(TicketAdmin):
            change_form_template = "admin/auditapp/ticket/change_form.html"

        request = RequestFactory().get("/")
        request.user = User.objects.create_superuser("root", password="pw")
        ticket = Ticket.objects.create(code="T-2", title="t")
        model_admin = OwnTemplateAdmin(Ticket, admin.site)
        response = model_admin.change_view(request, "T-2")
        content = response.render().content  # type: ignore[attr-defined]
        assert b'id="per-model-template"' in content
        assert audit_history_url(ticket).encode() in content

    def test_a_template_built_on_the_button_template_keeps_working(self) -> None:
        # How a change form was combined with the button before: one button.
        for template in ("auditapp/own_change_form.html", ["signalkit/admin/change_form.html"]):

            class OwnTemplateAdmin(TicketAdmin):
                change_form_template = template

            request = RequestFactory().get("/")
            request.user = User.objects.create_superuser(f"root{len(template)}", password="pw")
            ticket, _ = Ticket.objects.get_or_create(code="T-3", title="t")
            response = OwnTemplateAdmin(Ticket, admin.site).change_view(request, "T-3")
            content = response.render().content  # type: ignore[attr-defined]
            assert content.count(audit_history_url(ticket).encode()) == 1
            if isinstance(template, str):
                assert b'id="own-template"' in content

    def history_page(self, model_admin: AccountAdmin, key: object) -> tuple[list[Any], str]:
        request = RequestFactory().get("/")
        request.user = User.objects.create_superuser("root", password="pw")
        response = model_admin.audit_history_view(request, str(key))
        content = response.render().content.decode()  # type: ignore[attr-defined]
        return response.context_data["events"], content  # type: ignore[attr-defined]

    def test_fields_the_admin_hides_are_not_shown(self) -> None:
        class HidingAdmin(AccountAdmin):
            exclude = ["balance", "labels"]
            readonly_fields = ["seen_at"]

        label = Label.objects.create(name="red")
        # (A value no timestamp on the page can hold: "5.00" is in "14:49:15.009".)
        self.account.balance = 4321
        self.account.seen_at = timezone.now()
        self.account.labels.add(label)
        self.account.save()
        audit.record("reviewed", self.account, changes={"balance_note": "checked"})
        events, content = self.history_page(HidingAdmin(Account, admin.site), self.account.pk)
        assert [e.action for e in events] == ["reviewed", "update", "m2m_add", "update", "create"]
        shown = {name for event in events for name, _ in event.change_rows}
        assert "balance" not in shown
        assert "labels" not in shown
        # Read-only fields and keys that name no field are shown.
        assert {"seen_at", "name", "balance_note"} <= shown
        assert "balance" in events[1].changes  # hidden, not lost
        assert events[1].hidden_count == 1
        assert events[2].hidden_count == 1
        assert events[1].changes["balance"][1] == "4321.00"
        assert "4321.00" not in content
        assert content.count("1 field not shown here") == 2
        created = [name for name, _ in events[-1].change_rows]
        assert "balance" not in created
        assert "name" in created

    def test_fieldsets_decide_what_is_shown_also_once_deleted(self) -> None:
        class FieldsetsAdmin(AccountAdmin):
            fieldsets = [(None, {"fields": ["name"]})]

        key = self.account.pk
        self.account.delete()
        events, content = self.history_page(FieldsetsAdmin(Account, admin.site), key)
        assert [e.action for e in events] == ["delete", "update", "create"]
        assert {name for event in events for name, _ in event.change_rows} == {"name"}
        assert "acme 2" in content
        # The delete and the create hold every field; the update changed the name only.
        assert [event.hidden_count > 0 for event in events] == [True, False, True]

    def test_the_shown_fields_can_be_chosen(self) -> None:
        class ChoosingAdmin(AccountAdmin):
            def get_audit_history_fields(
                self, request: HttpRequest, obj: Model | None = None
            ) -> set[str]:
                return {"balance"}

        self.account.balance = 7
        self.account.save()
        events, _ = self.history_page(ChoosingAdmin(Account, admin.site), self.account.pk)
        assert [name for name, _ in events[0].change_rows] == ["balance"]
        assert [name for name, _ in events[1].change_rows] == []
        assert events[1].hidden_count == 1

    def test_missing_object_redirects(self) -> None:
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        for key in ("999", "not-a-number"):  # nothing logged; not a key of the model
            url = reverse("admin:auditapp_account_audit_history", args=[key])
            assert self.client.get(url).status_code == 302, key

    def test_a_deleted_objects_history_stays_readable(self) -> None:
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        url = audit_history_url(self.account)
        change = reverse("admin:auditapp_account_change", args=[self.account.pk])
        self.account.delete()
        response = self.client.get(url)
        assert response.status_code == 200
        assert [e.action for e in response.context["events"]] == ["delete", "update", "create"]
        content = response.content.decode()
        assert "Audit history: acme 2 (deleted)" in content
        assert change not in content  # no link to a change page that is gone

    def test_a_deleted_text_key_is_found_through_its_quoted_url(self) -> None:
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        ticket = Ticket.objects.create(code="x/y_40", title="gone")
        url = audit_history_url(ticket)
        ticket.delete()
        response = self.client.get(url)
        assert response.status_code == 200
        assert [e.object_pk for e in response.context["events"]] == ["x/y_40", "x/y_40"]

    def test_a_deleted_objects_history_needs_the_models_permission(self) -> None:
        url = audit_history_url(self.account)
        self.account.delete()
        staff = User.objects.create_user("staff", password="pw", is_staff=True)
        self.client.force_login(staff)
        assert self.client.get(url).status_code == 403
        staff.user_permissions.add(Permission.objects.get(codename="view_account"))
        assert self.client.get(url).status_code == 200

    def test_the_models_permission_is_checked_before_any_missing_object_redirect(self) -> None:
        # As the change view does: a user who may not see the model gets a 403,
        # never a "does not exist" that tells a missing object from a hidden one.
        url = audit_history_url(self.account)
        invalid = reverse("admin:auditapp_account_audit_history", args=["not-a-number"])
        self.account.delete()
        staff = User.objects.create_user("staff", password="pw", is_staff=True)
        self.client.force_login(staff)
        assert self.client.get(invalid).status_code == 403
        with mock.patch.object(AccountAdmin, "audit_history_deleted", False):
            assert self.client.get(url).status_code == 403
        staff.user_permissions.add(Permission.objects.get(codename="view_account"))
        assert self.client.get(invalid).status_code == 302
        with mock.patch.object(AccountAdmin, "audit_history_deleted", False):
            assert self.client.get(url).status_code == 302

    def test_a_row_that_get_queryset_hides_is_not_taken_for_deleted(self) -> None:
        # The row exists; this admin hides it from the user: its history stays hidden.
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        hidden = mock.patch.object(
            AccountAdmin, "get_queryset", return_value=Account.objects.none()
        )
        with hidden:
            response = self.client.get(audit_history_url(self.account))
        assert response.status_code == 302

    def test_deleted_objects_history_can_be_switched_off(self) -> None:
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        url = audit_history_url(self.account)
        self.account.delete()
        with mock.patch.object(AccountAdmin, "audit_history_deleted", False):
            assert self.client.get(url).status_code == 302
        assert self.client.get(url).status_code == 200

    def test_deleted_object_needs_its_url_taken_before(self) -> None:
        url = audit_history_url(self.account)
        self.account.delete()
        with pytest.raises(ValueError, match="Take the URL before deleting"):
            audit_history_url(self.account)
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        assert self.client.get(url).status_code == 200

    @pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite keeps any key length")
    def test_a_key_the_log_cannot_store_as_is_is_never_taken_for_deleted(self) -> None:
        # Cut to 255 characters, or a NUL replaced: the key the log stores could
        # name another row, one that exists and that get_queryset() hides.
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        hidden = mock.patch.object(TicketAdmin, "get_queryset", return_value=Ticket.objects.none())
        for code in ("k" * 300, "a\ufffdb"):
            Ticket.objects.create(code=code, title="hidden secret")
            stored = AuditEvent.objects.filter(model_label="auditapp.Ticket").last()
            assert stored is not None
            url = reverse("admin:auditapp_ticket_audit_history", args=[quote(stored.object_pk)])
            with hidden:
                assert self.client.get(url).status_code == 302, code
            changelist = self.client.get(reverse("admin:signalkit_auditevent_changelist"))
            assert url not in changelist.content.decode()  # and no link to it
        with hidden:
            url = reverse("admin:auditapp_ticket_audit_history", args=["a\x00b"])
            assert self.client.get(url).status_code == 302

    def test_the_log_links_events_to_their_objects_history(self) -> None:
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        url = audit_history_url(self.account)
        self.account.delete()
        audit.record("exported", extra={"rows": 1})  # no object: no link
        response = self.client.get(reverse("admin:signalkit_auditevent_changelist"))
        content = response.content.decode()
        assert content.count(f'<a href="{url}">acme 2</a>') == 2  # the update and the delete
        assert f'<a href="{url}">acme</a>' in content  # the create, named as it was
        # The user model's admin has no audit history: its login event is not linked.
        assert response.context["cl"].result_list[0].action == "exported"
        assert AuditEvent.objects.filter(action="login").exists()
        assert content.count("/audit-history/") == 3


@audited()
@override_settings(ROOT_URLCONF="tests.auditapp.sites")
class OtherSitesTests(TestCase):
    databases = {"default", "other"}

    def setUp(self) -> None:
        self.client.force_login(User.objects.create_superuser("root", password="pw"))

    def test_a_proxy_registered_instead_of_its_model_gets_the_links(self) -> None:
        account = Account.objects.create(name="acme")
        response = self.client.get(reverse("proxysite:signalkit_auditevent_changelist"))
        url = reverse("proxysite:auditapp_vipaccount_audit_history", args=[account.pk])
        assert f'<a href="{url}">acme</a>' in response.content.decode()
        account.delete()
        assert self.client.get(url).status_code == 200

    def test_a_deleted_object_is_looked_for_where_the_admin_reads(self) -> None:
        ticket = Ticket.objects.using("other").create(code="T-9", title="x")
        ticket.delete()
        url = reverse("othersite:auditapp_ticket_audit_history", args=["T-9"])
        response = self.client.get(url)
        assert response.status_code == 200
        assert [e.action for e in response.context["events"]] == ["delete", "create"]

    def test_a_row_hidden_on_the_admins_database_is_not_taken_for_deleted(self) -> None:
        # Deleted on "default"; it exists, hidden, on "other", which this admin reads.
        Ticket.objects.create(code="T-1", title="a default-db ticket").delete()
        Ticket.objects.using("other").create(code="T-1", title="hidden")
        url = reverse("othersite:auditapp_ticket_audit_history", args=["T-1"])
        assert self.client.get(url).status_code == 302


@audited()
class EstimatedCountTests(TestCase):
    """The whole log is counted from PostgreSQL's statistics once they are large."""

    url = reverse_lazy("admin:signalkit_auditevent_changelist")

    def setUp(self) -> None:
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        for n in range(5):
            audit.record("exported", extra={"n": n})

    def changelist(self, **params: str) -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(self.url, params)
        assert response.status_code == 200
        counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
        return response.context["cl"].result_count, counts

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
    def test_the_whole_log_is_estimated_once_large(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE signalkit_auditevent")  # sees this transaction's rows
        total = AuditEvent.objects.count()
        audit.record("exported")  # after the statistics: not in the estimate
        with mock.patch.object(EstimatedCountPaginator, "exact_below", total):
            count, counts = self.changelist()
            assert (count, counts) == (total, [])
            # A filtered list is counted exactly, through its index.
            count, counts = self.changelist(action="exported")
            assert count == 6
            assert len(counts) == 1
        # Below the threshold the whole log is counted exactly too.
        count, counts = self.changelist()
        assert (count, len(counts)) == (total + 1, 1)

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
    def test_pages_past_a_short_estimate_stay_reachable(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE signalkit_auditevent")
        for n in range(3):
            audit.record("later", extra={"n": n})  # after the statistics
        total = AuditEvent.objects.count()
        with (
            mock.patch.object(EstimatedCountPaginator, "exact_below", 1),
            mock.patch.object(AuditEventAdmin, "list_per_page", 1),
        ):
            response = self.client.get(self.url, {"p": str(total)})  # past the estimate
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [
            AuditEvent.objects.order_by("occurred_at", "pk").first()
        ]

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
    def test_a_page_no_database_can_reach_is_no_page(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE signalkit_auditevent")
        with (
            mock.patch.object(EstimatedCountPaginator, "exact_below", 1),
            mock.patch.object(AuditEventAdmin, "list_per_page", 1),
        ):
            # (No OFFSET skips 2**63 rows: a page past them is no page.)
            response = self.client.get(self.url, {"p": str(10**19)})
            assert response.status_code == 302
            assert response["Location"].endswith("?e=1")
            # Far past the estimate, which may lag behind the table: an empty page.
            response = self.client.get(self.url, {"p": "1000"})
            assert response.status_code == 200
            assert list(response.context["cl"].result_list) == []

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
    def test_rows_that_are_not_the_tables_are_counted_exactly(self) -> None:
        # Groups, a cross join, a join that multiplies rows: no WHERE, yet not
        # one row per row of the table.
        account = Account.objects.create(name="x")
        for text in ("a", "b", "c"):
            Note.objects.create(account=account, text=text)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE signalkit_auditevent")
            cursor.execute("ANALYZE auditapp_account")
        querysets = [
            AuditEvent.objects.values("action").annotate(n=Count("id")).order_by("action"),
            AuditEvent.objects.extra(tables=["auth_user"]).order_by("pk"),
            Account.objects.annotate(note=F("notes__id")).order_by("pk"),
        ]
        with mock.patch.object(EstimatedCountPaginator, "exact_below", 1):
            for queryset in querysets:
                assert EstimatedCountPaginator(queryset, 10).count == queryset.count()

    @pytest.mark.skipif(connection.vendor == "postgresql", reason="estimated there")
    def test_other_databases_count_exactly(self) -> None:
        with mock.patch.object(EstimatedCountPaginator, "exact_below", 0):
            count, counts = self.changelist()
        assert (count, len(counts)) == (AuditEvent.objects.count(), 1)
