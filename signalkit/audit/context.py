"""Who is acting, from where: a ``ContextVar``, so threads and tasks never mix."""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from signalkit.audit.serialize import to_json, truncate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@dataclass(frozen=True)
class AuditContext:
    """The current actor and request data; ``actor`` may be a callable resolved lazily."""

    actor: Any = None
    remote_addr: str | None = None
    correlation_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_current: ContextVar[AuditContext | None] = ContextVar("signalkit_audit_context", default=None)


def current() -> AuditContext | None:
    return _current.get()


def push(ctx: AuditContext) -> Any:
    return _current.set(ctx)


def pop(token: Any) -> None:
    _current.reset(token)


@contextlib.contextmanager
def context(actor: Any = None, **extra: Any) -> Iterator[AuditContext]:
    """Attribute the events recorded inside the block to ``actor``, adding ``extra``.

    ``actor`` is a user (or any model instance), a string, a callable returning
    one of those, or ``None`` to keep the enclosing actor. The keyword
    arguments ``remote_addr`` and ``correlation_id`` fill those columns; every
    other keyword lands in the event's ``extra``.
    """
    parent = _current.get() or AuditContext()
    remote_addr = extra.pop("remote_addr", parent.remote_addr)
    correlation_id = extra.pop("correlation_id", parent.correlation_id)
    ctx = replace(
        parent,
        actor=parent.actor if actor is None else actor,
        remote_addr=remote_addr,
        correlation_id=truncate(correlation_id or "", 64),
        extra={**parent.extra, **to_json(extra)},
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def resolve_actor(actor: Any) -> tuple[str, str]:
    """``(actor_id, actor_repr)`` of an actor value; never raises."""
    try:
        while callable(actor) and not hasattr(actor, "_meta"):
            actor = actor()
        if actor is None:
            return "", ""
        if isinstance(actor, str):
            return "", truncate(actor, 255)
        if getattr(actor, "is_anonymous", False) is True:
            return "", ""
        pk = getattr(actor, "pk", None)
        getter: Callable[[], str] | None = getattr(actor, "get_username", None)
        name = getter() if getter is not None else str(actor)
        return ("" if pk is None else truncate(pk, 255)), truncate(name, 255)
    except Exception:
        return "", ""
