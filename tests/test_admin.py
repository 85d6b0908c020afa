from __future__ import annotations

from django.contrib.auth.models import Permission, User
from django.test import TestCase
from django.urls import reverse

from signalkit.admin import audit_history_url
from signalkit.models import AuditEvent
from tests.audit_utils import audited
from tests.auditapp.models import Account, Ticket


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
        assert list(self.client.get(url, {"q": "req-1"}).context["cl"].result_list) == []

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
        assert b"acme 2" in response.content

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

    def test_missing_object_redirects(self) -> None:
        self.client.force_login(User.objects.create_superuser("root", password="pw"))
        url = reverse("admin:auditapp_account_audit_history", args=[999])
        assert self.client.get(url).status_code == 302
