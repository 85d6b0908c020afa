"""``AuditMiddleware``: who made the request, from where, under which correlation id."""

from __future__ import annotations

import logging
import weakref
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.db import DEFAULT_DB_ALIAS, transaction
from django.http import FileResponse, StreamingHttpResponse
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver

from signalkit.audit.actors import keep_user_key, lazy_user
from signalkit.audit.context import AuditContext, Carried, pop, push
from signalkit.audit.http import client_ip, correlation_id
from signalkit.conf import get_settings

logger = logging.getLogger("signalkit")

if TYPE_CHECKING:
    from collections.abc import (
        AsyncIterable,
        AsyncIterator,
        Awaitable,
        Callable,
        Iterable,
        Iterator,
    )

    from django.http import HttpRequest, HttpResponseBase


def _context(request: HttpRequest) -> AuditContext:
    # One id per request, however many audit middlewares it passes (both
    # AuditMiddleware and AtomicAuditMiddleware listed): the response carries
    # the one its events are recorded under.
    request_id = request.__dict__.get(_REQUEST_ID)
    if request_id is None:
        request_id = request.__dict__[_REQUEST_ID] = correlation_id(request.META)
    keep_user_key(request)  # (a user who deletes their account stays the actor)
    return AuditContext(
        actor=lazy_user(request),
        remote_addr=client_ip(request.META, get_settings().audit.trusted_proxies),
        correlation_id=request_id,
    )


_REQUEST_ID = "_signalkit_request_id"


class AuditMiddleware:
    """Attribute audit events recorded during a request to its user and client.

    Sync and async. Add it after ``AuthenticationMiddleware``. The response
    carries the correlation id in ``X-Request-ID`` (replacing any it had).
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]
    ) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        ctx = _context(request)
        token = push(ctx)
        try:
            response = self.handle(request)
        finally:
            pop(token)
        return self.finish(response, ctx)

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)  # type: ignore[return-value]

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        ctx = _context(request)
        token = push(ctx)
        try:
            response = await self.get_response(request)  # type: ignore[misc]
        finally:
            pop(token)
        return self.finish(response, ctx)

    @staticmethod
    def finish(response: HttpResponseBase, ctx: AuditContext) -> HttpResponseBase:
        # Always this request's: a response may carry another's (a page that
        # Django's cache middleware stored with the id of the request that
        # filled the cache).
        response["X-Request-ID"] = ctx.correlation_id
        if isinstance(response, StreamingHttpResponse) and not isinstance(response, FileResponse):
            # The body is produced after this middleware returned: changes made
            # while streaming get the request's context too. (A FileResponse
            # runs no code of the project's; wrapping it would lose sendfile.)
            carried = Carried(ctx)
            content = response.streaming_content
            if response.is_async:
                response.streaming_content = _astream(
                    cast("AsyncIterable[bytes]", content), carried
                )
            else:
                response.streaming_content = _stream(cast("Iterable[bytes]", content), carried)
            # Closing runs a sync body's cleanup (its ``finally``, when a client
            # went away): in the body's context too.
            response.close = partial(_close, response.close, carried)  # type: ignore[method-assign]
        return response


def _close(close: Callable[[], None], carried: Carried) -> None:
    tokens = carried.enter()
    try:
        close()
    finally:
        carried.leave(tokens)


def _stream(content: Iterable[bytes], carried: Carried) -> Iterator[bytes]:
    # Each step runs in the body's audit context, set and reset within the
    # step, never across a yield: the consumer may run other code (and other
    # requests' steps) between chunks.
    chunks = iter(content)
    while True:
        tokens = carried.enter()
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        finally:
            carried.leave(tokens)
        yield chunk


async def _astream(content: AsyncIterable[bytes], carried: Carried) -> AsyncIterator[bytes]:
    # (An async body abandoned mid-stream is finalized by the garbage
    # collector -- Django's ASGI handler keeps the response in a reference
    # cycle -- in whatever context is current then: see the docs.)
    chunks = aiter(content)
    while True:
        tokens = carried.enter()
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        finally:
            carried.leave(tokens)
        yield chunk


class AtomicAuditMiddleware(AuditMiddleware):
    """:class:`AuditMiddleware` that also runs each request in a transaction (sync only).

    In autocommit Django commits a row before ``post_save`` runs, so its audit
    event is a second statement; inside this middleware the change and its
    event commit together or not at all. As with ``ATOMIC_REQUESTS``, an
    exception raised by the view rolls back (also one Django turns into a 4xx
    response, such as ``Http404``), so does a response with a 5xx status, and a
    view marked ``@transaction.non_atomic_requests`` runs outside it. Use it
    instead of ``ATOMIC_REQUESTS`` when code outside Django's view machinery
    (such as middleware) also writes. The transaction ends before a streaming
    response's body is produced: changes made while streaming are in autocommit
    (they keep the request's audit context).
    """

    async_capable = False

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        atomic = _atomic_request(request)
        request.__dict__[_DECIDED] = atomic
        if not atomic:
            return self.get_response(request)  # type: ignore[return-value]
        with transaction.atomic():
            request.__dict__[_ATOMIC] = True
            try:
                response = self.get_response(request)
            finally:
                request.__dict__.pop(_ATOMIC, None)
            if response.status_code >= 500:  # type: ignore[union-attr]
                transaction.set_rollback(True)
        return response  # type: ignore[return-value]

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        # The view Django runs, resolved after the middleware listed later (one
        # that sets request.urlconf, or LocaleMiddleware for i18n_patterns).
        if request.__dict__.get(_DECIDED, _is_atomic(view)) != _is_atomic(view):
            logger.warning(
                "AtomicAuditMiddleware took %s for a view %s @transaction."
                "non_atomic_requests, but it is not: list AtomicAuditMiddleware after "
                "the middleware that sets request.urlconf or activates the language.",
                request.path,
                "marked" if request.__dict__[_DECIDED] is False else "not marked",
            )

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # Called for any exception the view raises, before Django turns it into
        # a response (a 404, a 403) that the block above would only see as that.
        if request.__dict__.get(_ATOMIC):
            transaction.set_rollback(True)


# Set on a request while AtomicAuditMiddleware's transaction is open, and whether
# it chose to open one.
_ATOMIC = "_signalkit_atomic"
_DECIDED = "_signalkit_atomic_view"


def _atomic_request(request: HttpRequest) -> bool:
    """Whether the view the request resolves to now may run in the transaction
    (a 404 changes nothing: it may)."""
    resolver = get_resolver(getattr(request, "urlconf", None))
    if not _has_non_atomic_view(resolver):
        # Every view may: the URL is left for Django to resolve, once (a path
        # converter may query the database).
        return True
    try:
        return _is_atomic(resolver.resolve(request.path_info).func)
    except Resolver404:
        return True


# Per resolver: Django makes a new one when the URLconf changes (a setting, a test).
_non_atomic_seen: weakref.WeakKeyDictionary[URLResolver, bool] = weakref.WeakKeyDictionary()


def _has_non_atomic_view(resolver: URLResolver) -> bool:
    """Whether a view of ``resolver``'s URLconf is marked
    ``@transaction.non_atomic_requests`` (or may be: a pattern of another kind
    than Django's could resolve to any view)."""
    found = _non_atomic_seen.get(resolver)
    if found is None:
        found = _non_atomic_seen[resolver] = any(
            _has_non_atomic_view(pattern)
            if isinstance(pattern, URLResolver)
            else not isinstance(pattern, URLPattern) or not _is_atomic(pattern.callback)
            for pattern in resolver.url_patterns
        )
    return found


def _is_atomic(view: Callable[..., Any] | None) -> bool:
    """Whether ``view`` may run in a transaction on the default database: not one
    marked ``@transaction.non_atomic_requests``."""
    return DEFAULT_DB_ALIAS not in getattr(view, "_non_atomic_requests", ())
