"""Auth events: login, logout and failed logins, without any secret.

Keys: ``signalkit.audit.auth.record_login``, ``signalkit.audit.auth.record_logout``,
``signalkit.audit.auth.record_login_failed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import router

from signalkit.audit.context import current, known_pk
from signalkit.audit.events import build
from signalkit.audit.http import client_ip
from signalkit.audit.serialize import object_pk, truncate
from signalkit.audit.writer import emit
from signalkit.conf import get_settings
from signalkit.models import AuditEvent

if TYPE_CHECKING:
    from django.http import HttpRequest


def record_login(
    sender: Any, *, request: HttpRequest | None = None, user: Any = None, **kwargs: Any
) -> None:
    # ``request`` and ``user`` may be missing: code outside Django's login()
    # sends the signal by hand (``user_logged_in.send(sender, user=user)``).
    _record("login", request, user)


def record_logout(
    sender: Any, *, request: HttpRequest | None = None, user: Any = None, **kwargs: Any
) -> None:
    _record("logout", request, user)


def record_login_failed(
    sender: Any,
    *,
    credentials: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    # Only what names the account: any other credential may be a secret under a
    # name no list foresees ("pwd", "code", a magic-link token).
    identifying = _identifying()
    safe = {
        str(name): truncate(value, 150)
        for name, value in (credentials or {}).items()
        if str(name) in identifying and isinstance(value, str | int)
    }
    _record("login_failed", request, None, {"credentials": safe})


def _identifying() -> frozenset[str]:
    """The credentials a failed login keeps: the user model's ``USERNAME_FIELD``,
    ``username`` and ``email``."""
    return frozenset({get_user_model().USERNAME_FIELD, "username", "email"})


def _record(action: str, request: HttpRequest | None, user: Any, extra: Any = None) -> None:
    using = router.db_for_write(AuditEvent)
    label = pk = text = ""
    # A user that is no model instance (token authentication's) has no
    # history to join: the event names it as its actor only.
    key = known_pk(user)  # (also once the user deleted their account)
    if getattr(user, "_meta", None) is not None and key is not None:
        # As its changes are recorded: one history per user, whichever class
        # (a proxy) logged in.
        label = user._meta.concrete_model._meta.label
        pk = object_pk(user) if user.pk is not None else key
        text = user.get_username() if hasattr(user, "get_username") else str(user)
        text = "" if text is None else text  # (an empty USERNAME_FIELD)
        if hasattr(user, "_state"):  # where its changes are written (not a replica)
            # ``__class__``: logout() sends request.user, a SimpleLazyObject,
            # whose type() has no ``_meta`` for the routers to read.
            using = router.db_for_write(user.__class__, instance=user)
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
