"""System checks for the audit's middleware (signalkit.W021, W027, W029)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register
from django.utils.module_loading import import_string

from signalkit.conf import get_settings


def _listed() -> list[tuple[str, type | None]]:
    """``MIDDLEWARE``'s entries, each with its class; None where a check cannot
    tell what it is: an entry that does not import (Django reports it) or a
    factory function (what it returns is not known before it runs)."""
    listed: list[tuple[str, type | None]] = []
    for path in getattr(settings, "MIDDLEWARE", None) or ():
        try:
            middleware = import_string(path)
        except Exception:
            middleware = None
        listed.append((path, middleware if isinstance(middleware, type) else None))
    return listed


@register()
def check_audit_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Audited models without the audit middleware record no actor (W021)."""
    if not get_settings().audit.models:
        return []
    from signalkit.middleware import AuditMiddleware

    for _, middleware in _listed():
        if middleware is None or issubclass(middleware, AuditMiddleware):
            return []  # (None: cannot tell)
    return [
        Warning(
            "SIGNALKIT['AUDIT']['MODELS'] lists models, but MIDDLEWARE has no "
            "signalkit.middleware.AuditMiddleware: changes made by requests are "
            "recorded without actor, client address or correlation id.",
            hint="Add 'signalkit.middleware.AuditMiddleware' after "
            "AuthenticationMiddleware, or silence signalkit.W021 if no request "
            "changes audited models.",
            id="signalkit.W021",
        )
    ]


@register()
def check_atomic_middleware_order(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Middleware after ``AtomicAuditMiddleware`` that handles view exceptions or
    chooses how URLs resolve (W027): it acts where the transaction cannot see."""
    from django.middleware.locale import LocaleMiddleware

    from signalkit.middleware import AtomicAuditMiddleware

    after = False  # past AtomicAuditMiddleware
    messages: list[CheckMessage] = []
    for path, middleware in _listed():
        if middleware is None:
            continue
        if issubclass(middleware, AtomicAuditMiddleware):
            after = True
            continue
        if not after:
            continue
        if issubclass(middleware, LocaleMiddleware):
            reason = (
                "chooses the language that i18n_patterns URLs resolve in, after "
                "AtomicAuditMiddleware resolved the URL to tell whether the view is "
                "marked @transaction.non_atomic_requests"
            )
        elif hasattr(middleware, "process_exception"):
            reason = (
                "can turn a view's exception into a response (process_exception) "
                "before AtomicAuditMiddleware sees it: the view's changes then commit"
            )
        else:
            continue
        messages.append(
            Warning(
                f"{path} comes after signalkit.middleware.AtomicAuditMiddleware in "
                f"MIDDLEWARE, and {reason}.",
                hint=f"List AtomicAuditMiddleware after {path}.",
                id="signalkit.W027",
            )
        )
    return messages


@register()
def check_audit_middleware_after_cache(
    app_configs: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """``AuditMiddleware`` listed after the middleware that answers from the page
    cache (W029): it never sees a cache hit, which keeps the cached X-Request-ID."""
    from django.middleware.cache import FetchFromCacheMiddleware

    from signalkit.middleware import AuditMiddleware

    fetch = None  # the first middleware that answers cache hits
    messages: list[CheckMessage] = []
    for path, middleware in _listed():
        if middleware is None:
            continue
        if fetch is None and issubclass(middleware, FetchFromCacheMiddleware):
            fetch = path
        elif fetch is not None and issubclass(middleware, AuditMiddleware):
            messages.append(
                Warning(
                    f"{path} comes after {fetch} in MIDDLEWARE: a page served from "
                    "the cache never reaches it, and carries the X-Request-ID of the "
                    "request that filled the cache.",
                    hint=f"List {path} before {fetch}.",
                    id="signalkit.W029",
                )
            )
    return messages
