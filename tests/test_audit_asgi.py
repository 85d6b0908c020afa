"""Audited requests under ASGI: async and sync views, streams, parallel users."""

from __future__ import annotations

import asyncio
import time
import unittest
import warnings
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIHandler
from django.db import connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import Client, TestCase, TransactionTestCase, override_settings
from django.urls import path

from signalkit.models import AuditEvent
from tests.audit_utils import audited, events
from tests.auditapp.models import Account

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping


async def aevents(**filters: Any) -> list[AuditEvent]:
    """The events of accounts (not those of the test's users, their logins)."""
    events = AuditEvent.objects.filter(model_label="auditapp.Account", **filters)
    return [event async for event in events.order_by("pk")]


async def authenticate_late(request: HttpRequest) -> HttpResponse:
    # Two requests interleave: each waits while the other writes.
    name = request.GET["user"]
    request.user = await User.objects.aget(username=name)
    await Account.objects.acreate(name=f"{name}-1")
    await asyncio.sleep(0.02 if name == "ann" else 0)
    await Account.objects.acreate(name=f"{name}-2")
    return HttpResponse("ok")


async def acreate_two(request: HttpRequest) -> HttpResponse:
    name = request.GET["name"]
    await Account.objects.acreate(name=f"{name}-1")
    await asyncio.sleep(0.02 if name.startswith("a") else 0.005)
    await Account.objects.acreate(name=f"{name}-2")
    return HttpResponse("ok")


def create_two(request: HttpRequest) -> HttpResponse:
    name = request.GET["name"]
    Account.objects.create(name=f"{name}-1")
    time.sleep(0.02 if name.startswith("a") else 0.005)
    Account.objects.create(name=f"{name}-2")
    return HttpResponse("ok")


def stream(request: HttpRequest) -> StreamingHttpResponse:
    def body() -> Iterator[bytes]:
        yield b"a"
        Account.objects.create(name="streamed")
        yield b"b"

    return StreamingHttpResponse(body())


async def acreate_then_fail(request: HttpRequest) -> HttpResponse:
    await Account.objects.acreate(name="half-done")
    if request.GET.get("status") == "500":
        return HttpResponse(status=500)
    raise PermissionDenied


urlpatterns = [
    path("late/", authenticate_late),
    path("acreate-two/", acreate_two),
    path("create-two/", create_two),
    path("stream/", stream),
    path("acreate-then-fail/", acreate_then_fail),
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "signalkit.middleware.AuditMiddleware",
]


@audited(TRUSTED_PROXIES=["127.0.0.1"])
@override_settings(MIDDLEWARE=MIDDLEWARE, ROOT_URLCONF=__name__)
class AsyncRequestTests(TestCase):
    ann: User
    bob: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.ann = User.objects.create_user("ann")
        cls.bob = User.objects.create_user("bob")

    async def test_parallel_requests_authenticated_late_never_swap_actors(self) -> None:
        first, second = await asyncio.gather(
            self.async_client.get("/late/?user=ann"), self.async_client.get("/late/?user=bob")
        )
        recorded = {e.object_repr: (e.actor_repr, e.correlation_id) for e in await aevents()}
        assert recorded == {
            "ann-1": ("ann", first["X-Request-ID"]),
            "ann-2": ("ann", first["X-Request-ID"]),
            "bob-1": ("bob", second["X-Request-ID"]),
            "bob-2": ("bob", second["X-Request-ID"]),
        }

    async def test_forwarded_for_and_request_id(self) -> None:
        await self.async_client.aforce_login(self.ann)
        headers = {"x-forwarded-for": "6.6.6.6, 8.8.8.8", "x-request-id": "rid-1"}
        response = await self.async_client.get("/acreate-two/?name=x", headers=headers)
        assert response["X-Request-ID"] == "rid-1"
        recorded = {(e.actor_repr, e.remote_addr, e.correlation_id) for e in await aevents()}
        assert recorded == {("ann", "8.8.8.8", "rid-1")}

    async def test_a_sync_view_and_its_sync_stream_under_asgi(self) -> None:
        await self.async_client.aforce_login(self.bob)
        await self.async_client.get("/create-two/?name=s", headers={"x-request-id": "s-1"})
        with warnings.catch_warnings():  # Django's, about consuming a sync iterator
            warnings.simplefilter("ignore")
            response = await self.async_client.get("/stream/", headers={"x-request-id": "s-2"})
            assert b"".join([chunk async for chunk in response]) == b"ab"  # type: ignore[attr-defined]
        recorded = {e.object_repr: (e.actor_repr, e.correlation_id) for e in await aevents()}
        assert recorded == {
            "s-1": ("bob", "s-1"),
            "s-2": ("bob", "s-1"),
            "streamed": ("bob", "s-2"),
        }


@audited()
@override_settings(
    MIDDLEWARE=[*MIDDLEWARE[:-1], "signalkit.middleware.AtomicAuditMiddleware"],
    ROOT_URLCONF=__name__,
)
class AtomicAuditMiddlewareUnderAsgiTests(TransactionTestCase):
    async def test_an_async_view_that_fails_rolls_back_under_asgi(self) -> None:
        assert (await self.async_client.get("/acreate-then-fail/")).status_code == 403
        response = await self.async_client.get("/acreate-then-fail/?status=500")
        assert response.status_code == 500
        assert not await Account.objects.aexists()
        assert await aevents() == []


async def asgi_get(app: ASGIHandler, url: str, session: str) -> int:
    """GET ``url`` as an ASGI server would: each request in a thread of its own."""
    path_info, _, query = url.partition("?")
    scope = {
        "type": "http",
        "method": "GET",
        "path": path_info,
        "query_string": query.encode(),
        "headers": [(b"cookie", f"sessionid={session}".encode())],
        "client": ("10.0.0.1", 1234),
    }
    sent: list[Mapping[str, Any]] = []
    body = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if body:
            return body.pop()
        await asyncio.Event().wait()  # the client stays: cancelled once answered
        raise AssertionError

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


@audited()
@override_settings(MIDDLEWARE=MIDDLEWARE, ROOT_URLCONF=__name__)
class ParallelAsgiRequestsTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor == "sqlite":
            raise unittest.SkipTest("needs a database with concurrent writers")

    def test_parallel_requests_of_two_users_never_swap_actors(self) -> None:
        sessions = {}
        for name in ("ann", "bob"):
            client = Client()
            client.force_login(User.objects.create_user(name))
            sessions[name[0]] = client.cookies["sessionid"].value
        app = ASGIHandler()
        urls = [
            (f"{view}?name={user}{view[1]}{n}", session)
            for view in ("/acreate-two/", "/create-two/")
            for n in range(3)
            for user, session in sessions.items()
        ]

        async def main() -> list[int]:
            return list(await asyncio.gather(*(asgi_get(app, *url) for url in urls)))

        assert asyncio.run(main()) == [200] * len(urls)
        actors = {e.object_repr: e.actor_repr for e in events(model_label="auditapp.Account")}
        assert len(actors) == 2 * len(urls)
        assert {name: actor for name, actor in actors.items() if actor[0] != name[0]} == {}
