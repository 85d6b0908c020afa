from __future__ import annotations

from functools import partial
from typing import Any
from unittest import mock
from unittest.mock import ANY

import django
import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser, User
from django.core.signals import request_finished
from django.db import connection
from django.http import FileResponse, HttpRequest, HttpResponse
from django.test import RequestFactory, TestCase, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext

from signalkit.audit.context import current
from signalkit.audit.http import client_ip, correlation_id
from signalkit.audit.middleware_checks import check_audit_middleware_after_cache
from signalkit.middleware import AtomicAuditMiddleware, AuditMiddleware
from signalkit.models import AuditEvent
from signalkit.testing import mute_signals
from tests.audit_utils import audited, events, quoted
from tests.auditapp import urls_converter
from tests.auditapp.models import Account
from tests.auditapp.urls import create, leave_a_note, stream_then_clean_up

PROXIES = ("10.0.0.0/8",)


class ClientIpTests(TestCase):
    def test_remote_addr_without_trusted_proxies(self) -> None:
        meta = {"REMOTE_ADDR": "1.2.3.4", "HTTP_X_FORWARDED_FOR": "6.6.6.6"}
        assert client_ip(meta, ()) == "1.2.3.4"

    def test_forwarded_for_ignored_from_untrusted_peer(self) -> None:
        meta = {"REMOTE_ADDR": "1.2.3.4", "HTTP_X_FORWARDED_FOR": "6.6.6.6"}
        assert client_ip(meta, PROXIES) == "1.2.3.4"

    def test_rightmost_untrusted_address_wins(self) -> None:
        meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 5.5.5.5, 10.0.0.2"}
        assert client_ip(meta, PROXIES) == "5.5.5.5"

    def test_invalid_entry_stops_at_the_last_trusted_hop(self) -> None:
        meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "5.5.5.5, garbage, 10.0.0.2"}
        assert client_ip(meta, PROXIES) == "10.0.0.2"

    def test_invalid_remote_addr_is_dropped(self) -> None:
        assert client_ip({"REMOTE_ADDR": "nope"}, PROXIES) is None
        assert client_ip({"REMOTE_ADDR": "::1"}, ()) == "::1"

    def test_ipv4_mapped_addresses_are_ipv4(self) -> None:
        # How a dual-stack socket shows an IPv4 peer: the proxy is still trusted.
        meta = {"REMOTE_ADDR": "::ffff:10.0.0.1", "HTTP_X_FORWARDED_FOR": "::ffff:8.8.8.8"}
        assert client_ip(meta, PROXIES) == "8.8.8.8"

    def test_a_proxy_listed_in_its_ipv4_mapped_form_is_trusted(self) -> None:
        # As a dual-stack server's logs show it: addresses are matched as IPv4.
        meta = {"REMOTE_ADDR": "::ffff:10.0.0.1", "HTTP_X_FORWARDED_FOR": "8.8.8.8"}
        assert client_ip(meta, ("::ffff:10.0.0.1",)) == "8.8.8.8"
        assert client_ip(meta, ("::ffff:10.0.0.0/104",)) == "8.8.8.8"
        assert client_ip({**meta, "REMOTE_ADDR": "10.0.0.1"}, ("::ffff:10.0.0.1",)) == "8.8.8.8"

    def test_ports_are_dropped(self) -> None:
        meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "8.8.8.8:51234, 10.0.0.2:80"}
        assert client_ip(meta, PROXIES) == "8.8.8.8"
        meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "[2001:db8::1]:443"}
        assert client_ip(meta, PROXIES) == "2001:db8::1"
        assert client_ip({"REMOTE_ADDR": "2001:db8::1"}, ()) == "2001:db8::1"  # not a port

    def test_ipv6_zone_is_dropped(self) -> None:
        # PostgreSQL's inet rejects "fe80::1%eth0": the save would fail.
        assert client_ip({"REMOTE_ADDR": "fe80::1%eth0"}, ()) == "fe80::1"


class CorrelationIdTests(TestCase):
    def test_valid_request_id_is_kept_and_truncated(self) -> None:
        assert correlation_id({"HTTP_X_REQUEST_ID": "req-1"}) == "req-1"
        assert correlation_id({"HTTP_X_REQUEST_ID": "a" * 100}) == "a" * 64

    def test_invalid_request_id_is_replaced(self) -> None:
        generated = correlation_id({"HTTP_X_REQUEST_ID": "<script>"})
        assert generated != "<script>"
        assert len(generated) == 32

    def test_a_final_newline_is_not_a_sane_token(self) -> None:
        # Cut to 64 characters first: the newline would end the kept value.
        hostile = "a" * 63 + "\nX-Injected: 1"
        assert "\n" not in correlation_id({"HTTP_X_REQUEST_ID": hostile})
        response = AuditMiddleware(lambda request: HttpResponse("ok"))(
            RequestFactory().get("/", HTTP_X_REQUEST_ID=hostile)
        )
        assert len(response["X-Request-ID"]) == 32


def create_account(request: HttpRequest) -> HttpResponse:
    # DRF-style: the user is only known once the view authenticates.
    request.user = User.objects.get(username="late")
    Account.objects.create(name="from-view")
    return HttpResponse("ok")


async def acreate_account(request: HttpRequest) -> HttpResponse:
    await Account.objects.acreate(name="from-async-view")
    return HttpResponse("ok")


@audited(TRUSTED_PROXIES=list(PROXIES))
class AuditMiddlewareTests(TestCase):
    def setUp(self) -> None:
        self.user = User.objects.create_user("late")
        self.factory = RequestFactory()

    def request(self, **meta: Any) -> HttpRequest:
        request = self.factory.post("/", REMOTE_ADDR="10.0.0.1", **meta)
        request.user = AnonymousUser()
        return request

    def test_actor_is_resolved_when_the_event_is_written(self) -> None:
        request = self.request(HTTP_X_FORWARDED_FOR="8.8.8.8", HTTP_X_REQUEST_ID="r-1")
        response = AuditMiddleware(create_account)(request)
        assert response["X-Request-ID"] == "r-1"
        event = events(model_label="auditapp.Account")[0]
        assert (event.actor_id, event.actor_repr) == (str(self.user.pk), "late")
        assert (event.remote_addr, event.correlation_id) == ("8.8.8.8", "r-1")

    def test_no_context_leaks_after_the_request(self) -> None:
        AuditMiddleware(create_account)(self.request())
        Account.objects.create(name="outside")
        event = events(object_repr="outside")[0]
        assert (event.actor_id, event.remote_addr, event.correlation_id) == ("", None, "")

    async def test_async_requests_are_attributed(self) -> None:
        request = self.request(HTTP_X_REQUEST_ID="async-1")
        request.user = self.user
        middleware = AuditMiddleware(acreate_account)
        response = await middleware(request)
        assert response["X-Request-ID"] == "async-1"
        event = await AuditEvent.objects.filter(object_repr="from-async-view").aget()
        assert (event.actor_repr, event.correlation_id) == ("late", "async-1")

    def test_atomic_middleware_rolls_back_server_errors(self) -> None:
        def failing(request: HttpRequest) -> HttpResponse:
            Account.objects.create(name="half-done")
            return HttpResponse(status=500)

        AtomicAuditMiddleware(failing)(self.request())
        assert not Account.objects.filter(name="half-done").exists()
        assert events(model_label="auditapp.Account") == []


MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "signalkit.middleware.AuditMiddleware",
]


@audited()
@override_settings(MIDDLEWARE=MIDDLEWARE, ROOT_URLCONF="tests.auditapp.urls")
class AuditMiddlewareStackTests(TestCase):
    def setUp(self) -> None:
        self.user = User.objects.create_user("ann")

    def test_sync_request_through_the_handler(self) -> None:
        self.client.force_login(self.user)
        response = self.client.get("/create/", headers={"x-request-id": "stack-1"})
        assert response["X-Request-ID"] == "stack-1"
        event = AuditEvent.objects.get(object_repr="sync view")
        assert (event.actor_repr, event.correlation_id, event.remote_addr) == (
            "ann",
            "stack-1",
            "127.0.0.1",
        )

    async def test_async_request_through_the_handler(self) -> None:
        await self.async_client.aforce_login(self.user)
        response = await self.async_client.get("/acreate/")
        event = await AuditEvent.objects.aget(object_repr="async view")
        assert event.actor_repr == "ann"
        assert event.correlation_id == response["X-Request-ID"]

    def test_a_user_who_deletes_their_account_stays_the_actor_of_what_follows(self) -> None:
        # delete() sets the instance's key to None; the logout that follows was
        # still made by that user, under the id the log knows them by.
        self.client.force_login(self.user)
        assert self.client.post("/leave/").status_code == 200
        actors = [(e.action, e.actor_id, e.actor_repr) for e in events(correlation_id__gt="")]
        assert actors == [
            ("delete", str(self.user.pk), "ann"),
            ("logout", str(self.user.pk), "ann"),
        ]

    async def test_a_user_who_deletes_their_account_asynchronously_stays_the_actor(self) -> None:
        await self.async_client.aforce_login(self.user)
        assert (await self.async_client.post("/aleave/")).status_code == 200
        actors = [
            (e.action, e.actor_id, e.actor_repr)
            async for e in AuditEvent.objects.exclude(correlation_id="").order_by("pk")
        ]
        assert actors == [
            ("delete", str(self.user.pk), "ann"),
            ("logout", str(self.user.pk), "ann"),
        ]

    @pytest.mark.skipif(
        django.VERSION < (6, 0),
        reason="Django 5.2's aupdate_session_auth_hash() reads request.user, a sync query",
    )
    async def test_an_async_password_change_keeps_the_user_logged_in(self) -> None:
        # The view awaited request.auser(): the actor is that user, not
        # request.user loaded anew, whose session hash no longer matches (which
        # flushed the session, and recorded no actor).
        await self.async_client.aforce_login(self.user)
        assert (await self.async_client.post("/achange-password/")).status_code == 200
        assert (await self.async_client.get("/whoami/")).content == b"ann"
        event = await AuditEvent.objects.aget(action="update", model_label="auth.User")
        assert (event.actor_id, event.actor_repr) == (str(self.user.pk), "ann")

    def test_changes_made_while_streaming_keep_the_context(self) -> None:
        # The body runs after the middleware returned.
        self.client.force_login(self.user)
        response = self.client.get("/stream/", headers={"x-request-id": "stream-1"})
        assert b"".join(response.streaming_content) == b"start done"  # type: ignore[attr-defined]
        event = AuditEvent.objects.get(object_repr="streamed")
        assert (event.actor_repr, event.correlation_id) == ("ann", "stream-1")
        assert current() is None

    def test_a_body_closed_early_cleans_up_in_the_context(self) -> None:
        # A client that goes away: the server closes the response mid-body.
        request = RequestFactory().get("/", HTTP_X_REQUEST_ID="gone-1")
        request.user = self.user
        response = AuditMiddleware(stream_then_clean_up)(request)
        assert next(iter(response)) == b"start "
        with mute_signals(request_finished):  # it would close the test's connection
            response.close()
        event = AuditEvent.objects.get(object_repr="cleaned up")
        assert (event.actor_repr, event.correlation_id) == ("ann", "gone-1")
        assert current() is None

    async def test_changes_made_while_streaming_asynchronously_keep_the_context(self) -> None:
        await self.async_client.aforce_login(self.user)
        response = await self.async_client.get("/astream/", headers={"x-request-id": "astream-1"})
        body = [chunk async for chunk in response]  # type: ignore[attr-defined]
        assert b"".join(body) == b"start done"
        event = await AuditEvent.objects.aget(object_repr="astreamed")
        assert (event.actor_repr, event.correlation_id) == ("ann", "astream-1")

    def test_a_context_entered_by_the_body_lasts_across_its_chunks(self) -> None:
        self.client.force_login(self.user)
        response = self.client.get("/stream-in-own-context/")
        assert b"".join(response.streaming_content) == b"ab"  # type: ignore[attr-defined]
        actors = {e.object_repr: e.actor_repr for e in events(model_label="auditapp.Account")}
        assert actors == {"first": "exporter", "second": "exporter", "after": "ann"}
        assert current() is None

    async def test_a_context_entered_by_an_async_body_lasts_across_its_chunks(self) -> None:
        await self.async_client.aforce_login(self.user)
        response = await self.async_client.get("/astream-in-own-context/")
        assert b"".join([chunk async for chunk in response]) == b"ab"  # type: ignore[attr-defined]
        actors = {e.object_repr: e.actor_repr async for e in AuditEvent.objects.all()}
        assert {name: actors[name] for name in ("first", "second", "after")} == {
            "first": "exporter",
            "second": "exporter",
            "after": "ann",
        }

    def test_a_body_closed_early_cleans_up_in_its_own_context(self) -> None:
        request = RequestFactory().get("/", HTTP_X_REQUEST_ID="gone-2")
        request.user = self.user
        response = AuditMiddleware(partial(stream_then_clean_up, actor="exporter"))(request)
        assert next(iter(response)) == b"start "
        with mute_signals(request_finished):
            response.close()
        event = AuditEvent.objects.get(object_repr="cleaned up")
        assert (event.actor_repr, event.correlation_id) == ("exporter", "gone-2")
        assert current() is None

    def test_an_inner_wrapper_of_close_is_kept(self) -> None:
        # Another middleware (or a second AuditMiddleware) wrapped close() first.
        closed: list[bool] = []

        def view(request: HttpRequest) -> Any:
            response = stream_then_clean_up(request)
            original = response.close

            def close() -> None:
                closed.append(True)
                original()

            response.close = close  # type: ignore[method-assign]
            return response

        request = RequestFactory().get("/")
        request.user = self.user
        response = AuditMiddleware(AuditMiddleware(view))(request)
        assert next(iter(response)) == b"start "
        with mute_signals(request_finished):
            response.close()
        assert closed == [True]
        assert AuditEvent.objects.get(object_repr="cleaned up").actor_repr == "ann"

    def test_a_cached_page_carries_the_id_of_the_request_it_answers(self) -> None:
        # Django's cache middleware stores the response with the header the
        # audit's middleware set: the next visitor got the first one's id.
        cached = [
            "django.middleware.cache.UpdateCacheMiddleware",
            *MIDDLEWARE,
            "django.middleware.cache.FetchFromCacheMiddleware",
        ]
        caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        with override_settings(MIDDLEWARE=cached, CACHES=caches, CACHE_MIDDLEWARE_SECONDS=60):
            first = self.client.get("/page/", headers={"x-request-id": "first"})
            second = self.client.get("/page/", headers={"x-request-id": "second"})
            third = self.client.get("/page/")
        assert "Age" in second  # served from the cache
        assert (first["X-Request-ID"], second["X-Request-ID"]) == ("first", "second")
        assert third["X-Request-ID"] not in ("first", "second")

    def test_listed_after_the_cache_middleware_a_cache_hit_keeps_the_cached_id(self) -> None:
        # FetchFromCacheMiddleware answers a hit itself: the middleware listed
        # after it never runs (signalkit.W029 warns about this order).
        cached = [
            "django.middleware.cache.UpdateCacheMiddleware",
            "django.middleware.cache.FetchFromCacheMiddleware",
            *MIDDLEWARE,
        ]
        caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        with override_settings(MIDDLEWARE=cached, CACHES=caches, CACHE_MIDDLEWARE_SECONDS=60):
            self.client.get("/page/", headers={"x-request-id": "first"})
            second = self.client.get("/page/", headers={"x-request-id": "second"})
            assert [m.id for m in check_audit_middleware_after_cache()] == ["signalkit.W029"]
        assert second["X-Request-ID"] == "first"

    def test_a_request_has_one_correlation_id_however_many_audit_middlewares(self) -> None:
        # AuditMiddleware and AtomicAuditMiddleware both listed: the response
        # carries the id its events were recorded under.
        request = RequestFactory().get("/")
        request.user = self.user
        view = AtomicAuditMiddleware(lambda request: create(request))
        response = AuditMiddleware(view)(request)
        event = AuditEvent.objects.get(object_repr="sync view")
        assert response["X-Request-ID"] == event.correlation_id

    def test_file_responses_are_left_as_they_are(self) -> None:
        # Wrapping the file would lose the server's sendfile. (Not through the
        # test client: it wraps every streaming body itself.)
        with open(__file__, "rb") as file:
            middleware = AuditMiddleware(lambda request: FileResponse(file))
            response = middleware(RequestFactory().get("/"))
            assert response["X-Request-ID"]
            assert response.file_to_stream is file


ATOMIC_MIDDLEWARE = [*MIDDLEWARE[:-1], "signalkit.middleware.AtomicAuditMiddleware"]


@audited(MODELS=["auditapp.Account"])
@override_settings(MIDDLEWARE=MIDDLEWARE, ROOT_URLCONF="tests.auditapp.urls")
class DeletedActorTests(TestCase):
    """A user deletes their own account while the user model is not audited: no
    event named them before. Their key is kept from when the request loaded them."""

    def setUp(self) -> None:
        self.user = User.objects.create_user("ann")
        self.pk = str(self.user.pk)

    def recorded(self) -> list[tuple[str, str, str, str, str]]:
        return [
            (e.action, e.actor_id, e.actor_repr, e.model_label, e.object_pk)
            for e in events(correlation_id__gt="")
        ]

    def test_the_logout_that_follows_names_them(self) -> None:
        self.client.force_login(self.user)
        with CaptureQueriesContext(connection) as queries:
            assert self.client.post("/leave/").status_code == 200
        users = f"FROM {quoted('auth_user')} WHERE"
        loads = [q for q in queries if q["sql"].startswith("SELECT") and users in q["sql"]]
        assert len(loads) == 1  # the session's user, as without the audit
        assert self.recorded() == [("logout", self.pk, "ann", "auth.User", self.pk)]

    def test_the_changes_that_follow_are_theirs(self) -> None:
        self.client.force_login(self.user)
        assert self.client.post("/leave-a-note/").status_code == 200
        assert self.recorded() == [("create", self.pk, "ann", "auditapp.Account", ANY)]

    async def test_the_async_logout_that_follows_names_them(self) -> None:
        await self.async_client.aforce_login(self.user)
        assert (await self.async_client.post("/aleave/")).status_code == 200
        assert await sync_to_async(self.recorded)() == [
            ("logout", self.pk, "ann", "auth.User", self.pk)
        ]

    async def test_the_async_changes_that_follow_are_theirs(self) -> None:
        await self.async_client.aforce_login(self.user)
        assert (await self.async_client.post("/aleave-a-note/")).status_code == 200
        assert await sync_to_async(self.recorded)() == [
            ("create", self.pk, "ann", "auditapp.Account", ANY)
        ]

    def test_through_both_audit_middlewares(self) -> None:
        self.client.force_login(self.user)
        both = [*MIDDLEWARE, "signalkit.middleware.AtomicAuditMiddleware"]
        with override_settings(MIDDLEWARE=both):
            assert self.client.post("/leave/").status_code == 200
        assert self.recorded() == [("logout", self.pk, "ann", "auth.User", self.pk)]

    def test_a_user_loaded_before_the_middleware_keeps_its_key_too(self) -> None:
        request = RequestFactory().post("/")
        request.user = User.objects.get(pk=self.user.pk)  # (not lazy: set by other code)
        AuditMiddleware(leave_a_note)(request)
        assert self.recorded() == [("create", self.pk, "ann", "auditapp.Account", ANY)]


@audited()
@override_settings(MIDDLEWARE=ATOMIC_MIDDLEWARE, ROOT_URLCONF="tests.auditapp.urls")
class AtomicAuditMiddlewareTests(TransactionTestCase):
    """As ATOMIC_REQUESTS does: what Django would commit, and roll back."""

    def test_a_request_commits_its_changes_and_their_events(self) -> None:
        assert self.client.get("/create/").status_code == 200
        assert [e.object_repr for e in events(action="create")] == ["sync view"]

    def test_a_view_error_turned_into_a_response_rolls_back(self) -> None:
        assert self.client.get("/create-then-raise/").status_code == 403
        assert self.client.get("/create-then-raise/?error=404").status_code == 404
        assert not Account.objects.exists()
        assert events() == []

    def test_a_non_atomic_view_runs_outside_the_transaction(self) -> None:
        assert self.client.get("/create-non-atomic/").status_code == 200
        assert [a.name for a in Account.objects.all()] == ["autocommit"]
        assert [e.object_repr for e in events(action="create")] == ["autocommit"]

    def test_a_non_atomic_view_in_an_include_runs_outside_the_transaction(self) -> None:
        with override_settings(ROOT_URLCONF="tests.auditapp.urls_included"):
            assert self.client.get("/app/create-non-atomic/").status_code == 200
            assert self.client.get("/app/create/").status_code == 200
        assert [a.name for a in Account.objects.order_by("pk")] == ["autocommit", "sync view"]

    def test_an_unknown_address_is_a_404(self) -> None:
        assert self.client.get("/nowhere/").status_code == 404

    def test_a_url_is_resolved_once(self) -> None:
        # A path converter may query the database: it runs once per request,
        # when Django resolves the URL, not a second time for the middleware.
        urls_converter.converted.clear()
        with override_settings(ROOT_URLCONF="tests.auditapp.urls_converter"):
            assert self.client.get("/create/acme/").status_code == 200
            assert self.client.get("/create/nobody/").status_code == 404
        assert urls_converter.converted == ["acme", "nobody"]
        assert [e.object_repr for e in events(action="create")] == ["acme"]

    async def test_a_url_is_resolved_once_under_asgi(self) -> None:
        urls_converter.converted.clear()
        with override_settings(ROOT_URLCONF="tests.auditapp.urls_converter"):
            assert (await self.async_client.get("/acreate/acme/")).status_code == 200
        assert urls_converter.converted == ["acme"]
        assert await AuditEvent.objects.filter(object_repr="acme").aexists()

    def test_a_view_resolved_otherwise_later_is_logged(self) -> None:
        # A middleware after it sets the URLconf: the view it resolved first is
        # not the one Django runs.
        def set_urlconf(get_response: Any) -> Any:
            def middleware(request: HttpRequest) -> Any:
                request.urlconf = "tests.auditapp.urls_non_atomic"
                return get_response(request)

            return middleware

        with (
            override_settings(MIDDLEWARE=[*ATOMIC_MIDDLEWARE, f"{__name__}.URLCONF_SETTER"]),
            mock.patch(f"{__name__}.URLCONF_SETTER", set_urlconf, create=True),
            self.assertLogs("signalkit", "WARNING") as logs,
        ):
            assert self.client.get("/create/").status_code == 200
        assert "list AtomicAuditMiddleware after" in logs.output[0]
