"""A multi-table profile model whose user already has a row of its parent model:
the missing child row is created on it (the parent row is kept)."""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models.signals import post_save
from django.test import TestCase, override_settings

from signalkit.profiles import get_profile
from signalkit.profiles.backfill import count_missing
from signalkit.profiles.receivers import KEY
from tests.factories import UserFactory
from tests.profilesapp.config import signalkit
from tests.profilesapp.models import (
    ChildProfile,
    LeadProfile,
    ProfileParent,
    SharedParent,
    TeamProfile,
)

CHILD = {**signalkit(MODEL="profilesapp.ChildProfile", DEFAULTS=None), "RECEIVERS": {KEY: False}}
TEAM = {
    **signalkit(
        MODEL="profilesapp.TeamProfile", DEFAULTS="tests.profilesapp.defaults.team_defaults"
    ),
    "RECEIVERS": {KEY: False},
}
LEAD = {**TEAM, "PROFILE": {**TEAM["PROFILE"], "MODEL": "profilesapp.LeadProfile"}}


def createprofiles() -> str:
    out = StringIO()
    call_command("createprofiles", stdout=out)
    return out.getvalue()


@override_settings(SIGNALKIT=CHILD)
class ExistingParentRowTests(TestCase):
    """``ChildProfile(ProfileParent)``, ``ProfileParent.user``: the user has a
    ``ProfileParent`` row (another profile type's, or one created before)."""

    def test_get_profile_creates_the_child_row_on_it(self) -> None:
        user = UserFactory.create()
        parent = ProfileParent.objects.create(user=user)
        profile = get_profile(user)
        assert type(profile) is ChildProfile
        assert (profile.pk, profile.user_id, profile.theme) == (parent.pk, user.pk, "light")
        assert ChildProfile.objects.get().pk == parent.pk
        assert ProfileParent.objects.get().pk == parent.pk
        assert get_profile(User.objects.get(pk=user.pk)) == profile

    def test_createprofiles_creates_the_child_rows_on_them(self) -> None:
        with_parent, without = UserFactory.create(), UserFactory.create()
        parent = ProfileParent.objects.create(user=with_parent)
        assert count_missing() == 2
        assert createprofiles() == "Created 2 profiles.\n"
        assert ChildProfile.objects.get(user=with_parent).pk == parent.pk
        assert ChildProfile.objects.filter(user=without).exists()
        assert ProfileParent.objects.count() == 2

    def test_the_profile_is_saved_as_created_not_raw(self) -> None:
        user = UserFactory.create()
        ProfileParent.objects.create(user=user)
        seen: list[tuple[bool, bool]] = []

        def record(sender: Any, created: bool, raw: bool, **kwargs: Any) -> None:
            seen.append((created, raw))

        post_save.connect(record, sender=ChildProfile, weak=False)
        try:
            get_profile(user)
        finally:
            post_save.disconnect(record, sender=ChildProfile)
        assert seen == [(True, False)]


@override_settings(SIGNALKIT=TEAM)
class ParentValuesTests(TestCase):
    """``DEFAULTS`` gives a parent field (``name``) and a child field (``role``)."""

    def test_the_parents_values_are_kept_and_defaults_fill_the_child(self) -> None:
        user = UserFactory.create(username="ada")
        parent = SharedParent.objects.create(user=user, name="kept")
        profile = get_profile(user)
        assert (profile.pk, profile.name, profile.role) == (parent.pk, "kept", "member")
        row = TeamProfile.objects.get()
        assert (row.pk, row.name, row.role) == (parent.pk, "kept", "member")

    def test_without_a_parent_row_defaults_fill_every_field(self) -> None:
        user = UserFactory.create(username="ada")
        profile = get_profile(user)
        assert (profile.name, profile.role) == ("defaults-ada", "member")
        assert SharedParent.objects.get().pk == profile.pk

    def test_the_parent_row_is_read_when_the_profile_is_created(self) -> None:
        # Not a stale copy: what the row holds when the child row is inserted.
        user = UserFactory.create()
        parent = SharedParent.objects.create(user=user, name="old")
        SharedParent.objects.filter(pk=parent.pk).update(name="new")
        assert get_profile(user).name == "new"
        assert SharedParent.objects.get().name == "new"

    def test_createprofiles_keeps_the_parents_values(self) -> None:
        users = [UserFactory.create(username=f"u{n}") for n in range(3)]
        SharedParent.objects.create(user=users[1], name="kept")
        assert createprofiles() == "Created 3 profiles.\n"
        assert sorted(TeamProfile.objects.values_list("name", "role")) == [
            ("defaults-u0", "member"),
            ("defaults-u2", "member"),
            ("kept", "member"),
        ]
        assert SharedParent.objects.count() == 3


@override_settings(SIGNALKIT=LEAD)
class GrandparentTests(TestCase):
    """``LeadProfile(TeamProfile(SharedParent))``: the nearest existing row is used."""

    def test_only_the_top_row_exists(self) -> None:
        user = UserFactory.create()
        parent = SharedParent.objects.create(user=user, name="kept")
        profile = get_profile(user)
        assert type(profile) is LeadProfile
        assert (profile.pk, profile.name, profile.role) == (parent.pk, "kept", "member")
        assert TeamProfile.objects.get().pk == LeadProfile.objects.get().pk == parent.pk

    def test_the_middle_row_exists(self) -> None:
        user = UserFactory.create()
        team = TeamProfile.objects.create(user=user, name="kept", role="admin")
        assert createprofiles() == "Created 1 profile.\n"
        lead = LeadProfile.objects.get()
        assert (lead.pk, lead.name, lead.role, lead.budget) == (team.pk, "kept", "admin", 0)
        assert SharedParent.objects.count() == TeamProfile.objects.count() == 1
