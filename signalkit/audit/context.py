"""Who is acting, from where: a ``ContextVar``, so threads and tasks never mix."""

from __future__ import annotations

import contextlib
import functools
import logging
from contextvars import ContextVar, Token
from dataclasses import dataclass, field, replace
from inspect import isasyncgenfunction, isgeneratorfunction
from typing import TYPE_CHECKING, Any, TypeVar

from asgiref.sync import iscoroutinefunction
from django.contrib.auth import get_user_model
from django.db.models import Model

from signalkit.audit.http import parse_address
from signalkit.audit.serialize import to_json, truncate

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class AuditContext:
    """The current actor and request data; ``actor`` may be a callable resolved lazily."""

    actor: Any = None
    remote_addr: str | None = None
    correlation_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


logger = logging.getLogger("signalkit.audit")

_current: ContextVar[AuditContext | None] = ContextVar("signalkit_audit_context", default=None)
# The scopes entered in this context, innermost last, each with the context to
# restore when it is left (what was current when it was entered, unless a scope
# entered before it was left first: then what was current before that one).
_entered: ContextVar[tuple[tuple[Scope, AuditContext | None], ...]] = ContextVar(
    "signalkit_audit_scopes", default=()
)


def current() -> AuditContext | None:
    return _current.get()


def push(ctx: AuditContext) -> Any:
    return _current.set(ctx)


def pop(token: Any) -> None:
    _current.reset(token)


def context(actor: Any = None, **extra: Any) -> Scope:
    """Attribute the events recorded inside the block to ``actor``, adding ``extra``.

    ``actor`` is a user (or any model instance), a string, a callable returning
    one of those, or ``None`` to keep the enclosing actor. The keyword
    arguments ``remote_addr`` and ``correlation_id`` fill those columns (an
    invalid address is recorded as none); every other keyword lands in the
    event's ``extra``. Use it as ``with context(...):``, or as a decorator of a
    function or a coroutine function.
    """
    _check_actor(actor)
    return Scope(actor, extra)


def _check_actor(actor: Any) -> None:
    # Values that are no actor: recorded, they would only be an actor_repr
    # ("42" for a user id) that no search by actor id ever finds.
    # type(), not isinstance(): a lazy actor (request.user) must stay lazy; in
    # an async view, evaluating it here would query the database.
    if issubclass(
        type(actor), type | int | float | bytes | bytearray | list | tuple | dict | set | frozenset
    ):
        raise TypeError(
            f"actor must be a user (or another model instance), a string, or a callable "
            f"returning one, not {actor!r:.80} ({type(actor).__name__}). For a user known by "
            "its id, pass the user itself (User.objects.get(pk=...))."
        )


_F = TypeVar("_F", bound="Callable[..., Any]")


class Scope(contextlib.ContextDecorator):
    """What :func:`context` returns. The context is derived from the enclosing
    one when the block is entered, so a decorated function sees its caller's."""

    def __init__(self, actor: Any, extra: dict[str, Any]) -> None:
        self._actor = actor
        self._extra = extra

    def _recreate_cm(self) -> Scope:
        # One Scope per call of a decorated function: calls may overlap.
        return Scope(self._actor, self._extra)

    def __enter__(self) -> AuditContext:
        if issubclass(type(self._actor), Model):  # (type(): a lazy actor stays lazy)
            known_pk(self._actor)  # (kept if the block deletes it: see known_pk())
        parent = _current.get() or AuditContext()
        extra = dict(self._extra)
        remote_addr = extra.pop("remote_addr", parent.remote_addr)
        correlation_id = extra.pop("correlation_id", parent.correlation_id)
        ctx = replace(
            parent,
            actor=parent.actor if self._actor is None else self._actor,
            remote_addr=None if remote_addr is None else parse_address(str(remote_addr)),
            correlation_id=truncate(correlation_id or "", 64),
            extra={**parent.extra, **to_json(extra)},
        )
        # Kept per context, not on the object: one Scope (a module-level one,
        # say) may be entered by several threads and tasks at once.
        _entered.set((*_entered.get(), (self, _current.get())))
        _current.set(ctx)
        return ctx

    def __exit__(self, *exc_info: object) -> None:
        # By value, not by token: a scope may be left in another copy of the
        # context than it was entered in (a body run step by step), and scopes
        # sharing one context may be left in another order than entered (Django
        # 6.1 runs async receivers side by side in one context).
        entered = _entered.get()
        for index in range(len(entered) - 1, -1, -1):
            if entered[index][0] is self:
                restore = entered[index][1]
                if index == len(entered) - 1:
                    _current.set(restore)  # the innermost: back to what it found
                    rest = entered[:index]
                else:
                    # Left before a scope entered after it: that one, still
                    # current, restores what this one found when it is left.
                    following = (entered[index + 1][0], restore)
                    rest = (*entered[:index], following, *entered[index + 2 :])
                _entered.set(rest)
                return

    def __call__(self, func: _F) -> _F:
        if isgeneratorfunction(func) or isasyncgenfunction(func):
            # The body runs step by step, in its consumer's context: a context
            # set around the call would cover none of it.
            raise TypeError(
                f"context() cannot decorate the generator function {func.__qualname__}; "
                "enter it where the generator is consumed."
            )
        if iscoroutinefunction(func) or (
            not isinstance(func, type) and iscoroutinefunction(type(func).__call__)
        ):  # a coroutine function, or an object with ``async def __call__``

            @functools.wraps(func)
            async def scoped(*args: Any, **kwargs: Any) -> Any:
                with self._recreate_cm():
                    return await func(*args, **kwargs)

            return scoped  # type: ignore[return-value]
        return super().__call__(func)


class Carried:
    """The audit context of a body run step by step (a streaming response's):
    each step starts with what the previous one left -- the request's context
    at first, then any :func:`context` the body entered -- whatever its
    consumer runs between steps. ``enter()`` before a step, ``leave()`` after."""

    __slots__ = ("current", "entered")

    def __init__(self, ctx: AuditContext) -> None:
        self.current: AuditContext | None = ctx
        self.entered: tuple[tuple[Scope, AuditContext | None], ...] = ()

    def enter(self) -> tuple[Token[AuditContext | None], Token[Any]]:
        return _current.set(self.current), _entered.set(self.entered)

    def leave(self, tokens: tuple[Token[AuditContext | None], Token[Any]]) -> None:
        self.current, self.entered = _current.get(), _entered.get()
        _entered.reset(tokens[1])
        _current.reset(tokens[0])


_MAX_CALLS = 8

# Set on an instance when an event names it by a key it does not hold yet.
_KNOWN_PK = "_signalkit_audit_pk"


def known_pk(obj: Any) -> Any:
    """``obj.pk``; for a model instance deleted since an event named it by its
    key, that key. ``delete()`` sets the instance's to ``None``, but what follows
    (a user who deleted their account logs out) is still that object's doing."""
    pk = getattr(obj, "pk", None)
    if getattr(obj, "_meta", None) is None:
        return pk  # (not a model instance: nothing is set on it)
    if pk is not None:
        with contextlib.suppress(Exception):  # (a model that refuses attributes)
            if not _holds(obj, pk):  # (a look costs less than a write, event after event)
                setattr(obj, _KNOWN_PK, pk)
        return pk
    state = getattr(obj, "_state", None)
    if state is None or state.adding:
        return None  # unsaved, or made a copy to insert (``pk = None``, ``adding = True``)
    return getattr(obj, _KNOWN_PK, None)


def _holds(obj: Any, pk: Any) -> bool:
    """Whether ``obj`` keeps ``pk`` as its known key already: that very object,
    or for a composite key (a new tuple each time) a tuple of its very values."""
    known = getattr(obj, _KNOWN_PK, None)
    if known is pk:
        return True
    return (
        type(known) is tuple
        and type(pk) is tuple
        and len(known) == len(pk)
        and all(old is new for old, new in zip(known, pk, strict=True))
    )


def resolve_actor(actor: Any) -> tuple[str, str]:
    """``(actor_id, actor_repr)`` of an actor value; never raises."""
    try:
        for _ in range(_MAX_CALLS):  # (a lazy actor may return another one)
            if not callable(actor) or hasattr(actor, "_meta"):
                break
            actor = actor()
        else:
            raise ValueError(f"the actor is still callable after {_MAX_CALLS} calls")
        if actor is None:
            return "", ""
        if isinstance(actor, str):
            return "", truncate(actor, 255)
        if getattr(actor, "is_anonymous", False) is True:
            return "", ""
        pk = known_pk(actor)
        getter: Callable[[], str | None] | None = getattr(actor, "get_username", None)
        name = getter() if getter is not None else str(actor)
        if name is None:  # (a user model whose USERNAME_FIELD may be empty)
            name = ""
        if pk is None:
            return "", truncate(name, 255)
        meta = getattr(actor, "_meta", None)
        if meta is not None and not isinstance(actor, get_user_model()):
            # Not a user (nor a proxy or child of the user model): its model's
            # label tells its key from a user's.
            label = meta.concrete_model._meta.label_lower
            return truncate(f"{label}:{pk}", 255), truncate(name, 255)
        return truncate(pk, 255), truncate(name, 255)
    except Exception:
        # The change must not fail for its actor; the log says why it has none.
        logger.warning("signalkit could not resolve the audit actor", exc_info=True)
        return "", ""
