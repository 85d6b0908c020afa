"""Auth events: login, logout and failed logins, without any secret.

Keys: ``signalkit.audit.auth.record_login``, ``signalkit.audit.auth.record_logout``,
``signalkit.audit.auth.record_login_failed``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import router

from signalkit.audit.context import current
from signalkit.audit.http import client_ip
from signalkit.audit.serialize import truncate
from signalkit.audit.writer import build, emit
from signalkit.conf import get_settings
from signalkit.models import AuditEvent

if TYPE_CHECKING:
    from django.http import HttpRequest

# Django's own list of sensitive names (SafeExceptionReporterFilter), plus ours.
_SENSITIVE = re.compile(r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|OTP|PIN|COOKIE", re.IGNORECASE)


def record_login(sender: Any, *, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    _record("login", request, user)


def record_logout(sender: Any, *, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    _record("logout", request, user)


def record_login_failed(
    sender: Any, *, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    safe = {
        str(name): truncate(value, 150)
        for name, value in credentials.items()
        if not _SENSITIVE.search(str(name)) and isinstance(value, str | int)
    }
    _record("login_failed", request, None, {"credentials": safe})


def _record(action: str, request: HttpRequest | None, user: Any, extra: Any = None) -> None:
    using = router.db_for_write(AuditEvent)
    label = pk = text = ""
    if user is not None and getattr(user, "pk", None) is not None:
        label, pk = user._meta.label, user.pk
        text = user.get_username() if hasattr(user, "get_username") else str(user)
    event = build(
        action,
        using=using,
        model_label=label,
        object_pk=pk,
        object_repr=text,
        extra=extra,
        actor=user if user is not None else None,
    )
    if request is not None and current() is None:
        event.remote_addr = client_ip(request.META, get_settings().audit.trusted_proxies)
    emit(event, using)


_SIGNALS = (
    (user_logged_in, record_login),
    (user_logged_out, record_logout),
    (user_login_failed, record_login_failed),
)


def connect() -> None:
    disconnect()
    if get_settings().audit.auth_events:
        for signal, func in _SIGNALS:
            signal.connect(func, dispatch_uid=f"signalkit.audit.auth.{func.__name__}")


def disconnect() -> None:
    for signal, func in _SIGNALS:
        signal.disconnect(func, dispatch_uid=f"signalkit.audit.auth.{func.__name__}")
