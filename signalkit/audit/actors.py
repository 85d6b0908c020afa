"""The request's user as the actor of the events the request records.

``delete()`` sets an instance's key to ``None``. A user who deletes their own
account is still the actor of what the request does next (it logs them out):
the key is kept on the instance (see :func:`~signalkit.audit.context.known_pk`)
as soon as the user is loaded -- ``request.user`` evaluated, ``request.auser()``
awaited -- from the key it was loaded by, without a query, whether or not an
event named the user before the delete.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from django.utils.functional import LazyObject, SimpleLazyObject, empty

from signalkit.audit.context import known_pk

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest


def lazy_user(request: HttpRequest) -> Callable[[], Any]:
    """The actor of ``request``'s events: its user, read when each event is written."""

    # Resolved when an event is written, not when the request starts, so users
    # authenticated later (DRF-style authentication in the view) are seen.
    def actor() -> Any:
        user = getattr(request, "user", None)
        if isinstance(user, LazyObject) and user._wrapped is empty:
            # Not loaded. An async view that awaited request.auser() holds the
            # same user, loaded apart (AuthenticationMiddleware caches the two
            # separately): loading request.user now would query again and see
            # the row as the change left it -- a user who deleted or
            # deactivated their account would be no one, and one who changed
            # their password would have their session flushed.
            loaded = request.__dict__.get("_acached_user")
            if loaded is not None:
                return loaded
        return user

    return actor


def keep_user_key(request: HttpRequest) -> None:
    """Make ``request``'s user keep its key once loaded (or now, if it is)."""
    values = request.__dict__
    if values.get(_KEEPING):
        return  # (the request passed another audit middleware already)
    values[_KEEPING] = True
    user = values.get("user")
    if not isinstance(user, LazyObject) or user._wrapped is not empty:
        if user is not None:
            _keep(user)
    elif isinstance(user, SimpleLazyObject):  # (AuthenticationMiddleware's)
        load = user.__dict__.get("_setupfunc")
        if callable(load):

            def loaded() -> Any:
                return _keep(load())

            # (In place: the object stays the one other code may hold.)
            user.__dict__["_setupfunc"] = loaded
    # (Another lazy object, not loaded: left as it is, loading it would query.)
    auser = values.get("auser")
    if callable(auser):

        async def kept() -> Any:
            return _keep(await auser())

        values["auser"] = kept


_KEEPING = "_signalkit_keeps_user_key"


def _keep(user: Any) -> Any:
    with contextlib.suppress(Exception):  # (loading the user must not fail for the log)
        known_pk(user)
    return user
