"""``DEFAULTS`` callables for the profile tests."""

from __future__ import annotations

from typing import Any

calls: list[Any] = []


def profile_defaults(user: Any) -> dict[str, Any]:
    calls.append(user)
    return {"nickname": user.get_username(), "timezone": "Europe/Paris"}


def not_a_dict(user: Any) -> Any:
    return [("nickname", "x")]


NOT_CALLABLE = {"nickname": "x"}


def no_nickname(user: Any) -> dict[str, Any]:
    """A required field left NULL: every database refuses the profile."""
    return {"nickname": None}


def racing(user: Any) -> dict[str, Any]:
    """Another request creates the profile between the lookup and the insert."""
    from tests.profilesapp.models import Profile

    Profile.objects.bulk_create([Profile(user=user, nickname="winner")])
    return {"nickname": "loser"}


def racing_backfill(user: Any) -> dict[str, Any]:
    """While a backfill builds its batch, a request creates ``old1``'s profile."""
    from tests.profilesapp.models import Profile

    if user.username == "old1" and not Profile.objects.filter(user=user).exists():
        Profile.objects.bulk_create([Profile(user=user, nickname="concurrent")])
    return {"nickname": user.username}


def misspelt(user: Any) -> dict[str, Any]:
    """A key that is not a field of the profile model (``nick`` for ``nickname``)."""
    return {"nick": user.get_username()}


def with_badges(user: Any) -> dict[str, Any]:
    """A reverse foreign key of the profile model (``Badge.profile``)."""
    return {"nickname": user.get_username(), "badges": []}


def with_note(user: Any) -> dict[str, Any]:
    """A reverse one-to-one of the profile model (``Note.profile``): the note would be lost."""
    from tests.profilesapp.models import Note

    return {"nickname": user.get_username(), "note": Note(user=user, score=1)}


def with_groups(user: Any) -> dict[str, Any]:
    """A many-to-many field of the profile model (``ChildProfile.groups``)."""
    return {"theme": "dark", "groups": []}


def with_label(user: Any) -> dict[str, Any]:
    """A read-only property of the profile model (``ChildProfile.label``)."""
    return {"theme": "dark", "label": "x"}


def another_users_key(user: Any) -> dict[str, Any]:
    """The user field's attname: Model() sets it after ``user``, so it wins."""
    from django.contrib.auth.models import User

    return {"nickname": "x", "user_id": User.objects.get(username="other").pk}


def with_generated(user: Any) -> dict[str, Any]:
    """A generated field of the profile model (``HandleProfile.handle_lower``)."""
    return {"handle": user.get_username(), "handle_lower": "x"}


def team_defaults(user: Any) -> dict[str, Any]:
    """Values for a parent field (``name``) and a child field (``role``)."""
    return {"name": f"defaults-{user.get_username()}", "role": "member"}


#: Set by a test: ``waiting_team_defaults`` waits on it (both threads missed the profile).
barrier: list[Any] = []


def waiting_team_defaults(user: Any) -> dict[str, Any]:
    """:func:`team_defaults`, once every thread of the test has come this far."""
    barrier[0].wait()
    return team_defaults(user)
