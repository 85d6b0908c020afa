from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import authenticate, logout
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory, TestCase, override_settings
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

import signalkit.audit as audit
from signalkit.models import AuditEvent
from tests.audit_utils import audited, events
from tests.profilesapp.models import StaffUser

if TYPE_CHECKING:
    from django.db.models import Model


class ReplicaRouter:
    """Users are read from "other" (a replica) and written to "default"."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return "other" if model is User else None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return "default" if model is User else None


class TokenUser:
    """A user that is no model instance, as token authentication gives
    (djangorestframework-simplejwt's ``TokenUser``)."""

    is_active = is_authenticated = True
    is_anonymous = False

    def __init__(self, pk: int) -> None:
        self.pk = self.id = pk

    def get_username(self) -> str:
        return "token-user"


@audited()
class AuthEventTests(TestCase):
    databases = {"default", "other"}

    def setUp(self) -> None:
        self.user = User.objects.create_user("ann", password="s3cret-pass")

    def test_login_and_logout_are_recorded(self) -> None:
        assert self.client.login(username="ann", password="s3cret-pass")
        self.client.logout()
        login, logout = events(action__in=["login", "logout"])
        assert (login.action, login.object_pk, login.actor_repr) == (
            "login",
            str(self.user.pk),
            "ann",
        )
        assert (logout.action, logout.actor_id) == ("logout", str(self.user.pk))

    def test_a_logout_view_sends_the_lazy_request_user(self) -> None:
        # logout() sends request.user, a SimpleLazyObject: the routers (the test
        # settings' reads model._meta) must be given the user's class.
        User.objects.filter(pk=self.user.pk).update(is_staff=True)  # the admin's logout
        assert self.client.login(username="ann", password="s3cret-pass")
        assert self.client.post(reverse("admin:logout")).status_code == 200
        assert [e.actor_repr for e in events(action="logout")] == ["ann"]
        lazy: Any = SimpleLazyObject(lambda: User.objects.get(pk=self.user.pk))  # as request.user
        audit.record("viewed", lazy)
        assert [e.action for e in audit.history(lazy)][-2:] == ["logout", "viewed"]

    def test_events_join_the_users_history(self) -> None:
        # A proxy of the user model logs in: the events are the user's; a user
        # stored on another database has them there, where history() reads.
        staff = StaffUser.objects.get(pk=self.user.pk)
        user_logged_in.send(sender=StaffUser, request=None, user=staff)
        elsewhere = User.objects.db_manager("other").create_user("bob", password="!")
        user_logged_in.send(sender=User, request=None, user=elsewhere)
        for user, name in ((self.user, "ann"), (staff, "ann"), (elsewhere, "bob")):
            logins = audit.history(user).filter(action="login")
            assert [e.object_repr for e in logins] == [name]
        assert not AuditEvent.objects.using("default").filter(object_repr="bob").exists()

    def test_events_follow_the_router_not_the_replica_the_user_came_from(self) -> None:
        User.objects.db_manager("other").create_user("ann", password="!")
        with override_settings(DATABASE_ROUTERS=[ReplicaRouter()]):
            loaded = User.objects.get(username="ann")
            assert loaded._state.db == "other"
            user_logged_out.send(sender=User, request=None, user=loaded)
        assert AuditEvent.objects.using("default").filter(action="logout").count() == 1
        assert not AuditEvent.objects.using("other").filter(action="logout").exists()

    def test_a_user_without_a_username_is_named_by_nothing_rather_than_none(self) -> None:
        self.user.get_username = lambda: None  # type: ignore[method-assign,assignment,return-value]
        user_logged_in.send(sender=User, request=None, user=self.user)
        [event] = events(action="login")
        assert (event.object_repr, event.actor_repr) == ("", "")

    def test_logout_without_user_is_recorded(self) -> None:
        self.client.logout()
        [event] = events(action="logout")
        assert (event.actor_id, event.object_pk) == ("", "")

    def test_a_user_that_is_no_model_instance_logs_out(self) -> None:
        # Django's logout() takes any authenticated request.user.
        request = RequestFactory().get("/")
        request.session = SessionStore()
        request.user = TokenUser(7)  # type: ignore[assignment]
        logout(request)
        [event] = events(action="logout")
        assert (event.model_label, event.object_pk) == ("", "")
        assert (event.actor_id, event.actor_repr) == ("7", "token-user")

    def test_a_user_who_deleted_their_account_is_still_named_by_its_key(self) -> None:
        # delete() sets the instance's key to None: what the user does next (log
        # out) is recorded under the key events named them by before.
        pk = str(self.user.pk)
        with audit.context(actor=self.user):
            self.user.delete()
            audit.record("farewell")
            user_logged_out.send(sender=User, request=None, user=self.user)
        recorded = [
            (e.action, e.actor_id, e.actor_repr, e.model_label, e.object_pk) for e in events()
        ]
        assert recorded[-3:] == [
            ("delete", pk, "ann", "auth.User", pk),
            ("farewell", pk, "ann", "", ""),
            ("logout", pk, "ann", "auth.User", pk),
        ]

    def test_a_context_actor_who_deletes_their_account_keeps_their_key(self) -> None:
        # The user model not audited: no event names them before the delete.
        pk = str(self.user.pk)
        with audited(MODELS=["auditapp.Account"]), audit.context(actor=self.user):
            self.user.delete()
            audit.record("farewell")
            user_logged_out.send(sender=User, request=None, user=self.user)
        recorded = [
            (e.action, e.actor_id, e.actor_repr, e.model_label, e.object_pk)
            for e in events(action__in=["farewell", "logout"])
        ]
        assert recorded == [
            ("farewell", pk, "ann", "", ""),
            ("logout", pk, "ann", "auth.User", pk),
        ]

    def test_login_failed_keeps_no_secret(self) -> None:
        assert authenticate(username="ann", password="wrong-guess", api_token="t0k") is None
        [event] = events(action="login_failed")
        assert event.extra == {"credentials": {"username": "ann"}}
        stored = str(event.extra) + str(event.changes)
        assert "wrong-guess" not in stored
        assert "t0k" not in stored
        assert "*****" not in stored

    def test_login_failed_keeps_only_what_names_the_account(self) -> None:
        # Secrets under names no list foresees (django-sesame passes its magic
        # link token as ``sesame``) are never stored.
        secrets = {"pwd": "hunter2", "code": "123456", "sesame": "magic-link", "answer": "fluffy"}
        assert authenticate(None, username="ann", email="ann@example.com", **secrets) is None
        [event] = events(action="login_failed")
        assert event.extra == {"credentials": {"username": "ann", "email": "ann@example.com"}}
        assert not any(secret in str(event.extra) for secret in secrets.values())

    def test_a_failed_login_with_a_lone_surrogate_is_recorded(self) -> None:
        # A JSON login body may carry "\\ud800"; a backend that refuses it
        # without a query lets it reach the event, which PostgreSQL refused
        # (the request failed, or its event was lost).
        user_login_failed.send(sender=__name__, credentials={"username": "bob\ud800"})
        [event] = events(action="login_failed")
        assert event.extra == {"credentials": {"username": "bob\ufffd"}}

    def test_signals_sent_by_hand_without_request_are_recorded(self) -> None:
        # Django's own receivers accept these sends (channels consumers, API views).
        user_logged_in.send(sender=User, user=self.user)
        user_logged_out.send(sender=User)
        user_login_failed.send(sender=__name__)
        auth_events = events(action__in=["login", "logout", "login_failed"])
        assert [(e.action, e.actor_id) for e in auth_events] == [
            ("login", str(self.user.pk)),
            ("logout", ""),
            ("login_failed", ""),
        ]

    def test_last_login_update_is_not_an_event(self) -> None:
        self.client.login(username="ann", password="s3cret-pass")
        assert events(action="update") == []

    def test_auth_events_can_be_switched_off(self) -> None:
        with override_settings(SIGNALKIT={"AUDIT": {"AUTH_EVENTS": False}}):
            self.client.login(username="ann", password="s3cret-pass")
        assert events(action="login") == []
