from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.test import TestCase, override_settings

from tests.audit_utils import audited, events


@audited()
class AuthEventTests(TestCase):
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

    def test_logout_without_user_is_recorded(self) -> None:
        self.client.logout()
        [event] = events(action="logout")
        assert (event.actor_id, event.object_pk) == ("", "")

    def test_login_failed_keeps_no_secret(self) -> None:
        assert authenticate(username="ann", password="wrong-guess", api_token="t0k") is None
        [event] = events(action="login_failed")
        assert event.extra == {"credentials": {"username": "ann"}}
        stored = str(event.extra) + str(event.changes)
        assert "wrong-guess" not in stored
        assert "t0k" not in stored
        assert "*****" not in stored

    def test_last_login_update_is_not_an_event(self) -> None:
        self.client.login(username="ann", password="s3cret-pass")
        assert events(action="update") == []

    def test_auth_events_can_be_switched_off(self) -> None:
        with override_settings(SIGNALKIT={"AUDIT": {"AUTH_EVENTS": False}}):
            self.client.login(username="ann", password="s3cret-pass")
        assert events(action="login") == []
