from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import alogout, aupdate_session_auth_hash, logout
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path

import signalkit.audit as audit
from tests.auditapp.models import Account

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


def create(request: HttpRequest) -> HttpResponse:
    Account.objects.create(name="sync view")
    return HttpResponse("ok")


def page(request: HttpRequest) -> HttpResponse:
    """A page that writes nothing (Django's cache middleware may store it)."""
    return HttpResponse("page")


async def acreate(request: HttpRequest) -> HttpResponse:
    await Account.objects.acreate(name="async view")
    return HttpResponse("ok")


def stream(request: HttpRequest) -> StreamingHttpResponse:
    def body() -> Iterator[bytes]:
        yield b"start "
        Account.objects.create(name="streamed")
        yield b"done"

    return StreamingHttpResponse(body())


def stream_then_clean_up(request: HttpRequest, actor: str | None = None) -> StreamingHttpResponse:
    """A body that a client leaves after one chunk: its cleanup writes. With
    ``actor``, the body runs in a context() of its own."""

    def body() -> Iterator[bytes]:
        with audit.context(actor=actor):  # None: the enclosing context, as it is
            try:
                yield b"start "
                yield b"never read"
            finally:
                Account.objects.create(name="cleaned up")

    return StreamingHttpResponse(body())


def astream(request: HttpRequest) -> StreamingHttpResponse:
    async def body() -> AsyncIterator[bytes]:
        yield b"start "
        await Account.objects.acreate(name="astreamed")
        yield b"done"

    return StreamingHttpResponse(body())


def stream_in_own_context(request: HttpRequest) -> StreamingHttpResponse:
    def body() -> Iterator[bytes]:
        with audit.context(actor="exporter"):
            Account.objects.create(name="first")
            yield b"a"
            Account.objects.create(name="second")
            yield b"b"
        Account.objects.create(name="after")

    return StreamingHttpResponse(body())


def astream_in_own_context(request: HttpRequest) -> StreamingHttpResponse:
    async def body() -> AsyncIterator[bytes]:
        with audit.context(actor="exporter"):
            await Account.objects.acreate(name="first")
            yield b"a"
            await Account.objects.acreate(name="second")
            yield b"b"
        await Account.objects.acreate(name="after")

    return StreamingHttpResponse(body())


def create_then_raise(request: HttpRequest) -> HttpResponse:
    """A view that writes, then fails: Django turns the error into a 403 or 404."""
    Account.objects.create(name="half-done")
    if request.GET.get("error") == "404":
        raise Http404("gone")
    raise PermissionDenied


@transaction.non_atomic_requests
def create_non_atomic(request: HttpRequest) -> HttpResponse:
    Account.objects.create(name="own transactions" if connection.in_atomic_block else "autocommit")
    return HttpResponse("ok")


def leave(request: HttpRequest) -> HttpResponse:
    """A user deletes their own account, then is logged out."""
    request.user.delete()
    logout(request)
    return HttpResponse("bye")


async def aleave(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    assert isinstance(user, User)
    await user.adelete()
    await alogout(request)
    return HttpResponse("bye")


def leave_a_note(request: HttpRequest) -> HttpResponse:
    """A user deletes their own account, then the view writes."""
    request.user.delete()
    Account.objects.create(name="left behind")
    return HttpResponse("bye")


async def aleave_a_note(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    assert isinstance(user, User)
    await user.adelete()
    await Account.objects.acreate(name="left behind")
    return HttpResponse("bye")


async def achange_password(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    assert isinstance(user, User)
    user.set_password("new-pass-123")
    await user.asave()
    await aupdate_session_auth_hash(request, user)
    return HttpResponse("ok")


async def whoami(request: HttpRequest) -> HttpResponse:
    return HttpResponse((await request.auser()).get_username())


urlpatterns = [
    path("create/", create),
    path("leave/", leave),
    path("aleave/", aleave),
    path("leave-a-note/", leave_a_note),
    path("aleave-a-note/", aleave_a_note),
    path("achange-password/", achange_password),
    path("whoami/", whoami),
    path("page/", page),
    path("create-then-raise/", create_then_raise),
    path("create-non-atomic/", create_non_atomic),
    path("acreate/", acreate),
    path("stream/", stream),
    path("astream/", astream),
    path("stream-then-clean-up/", stream_then_clean_up),
    path("stream-in-own-context/", stream_in_own_context),
    path("astream-in-own-context/", astream_in_own_context),
]
