from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.test import RequestFactory, TestCase, override_settings

from signalkit.profiles.admin import ProfileInline
from signalkit.profiles.receivers import KEY
from tests.factories import UserFactory
from tests.profilesapp.admin_site import site
from tests.profilesapp.config import signalkit
from tests.profilesapp.models import (
    ChildProfile,
    LeadProfile,
    Preferences,
    Profile,
    ProfileParent,
    SharedParent,
    TeamProfile,
)

ADD_URL = "/admin/auth/user/add/"


def add_form(
    username: str, *, prefix: str = "profile", key: str = "id", **profile: Any
) -> dict[str, Any]:
    data = {
        "username": username,
        "password1": "a-Long-unusual-passw0rd",
        "password2": "a-Long-unusual-passw0rd",
        "usable_password": "true",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1",
        f"{prefix}-0-{key}": "",
        f"{prefix}-0-user": "",
    }
    data.update({f"{prefix}-0-{name}": value for name, value in profile.items()})
    return data


@override_settings(ROOT_URLCONF="tests.profilesapp.urls", SIGNALKIT=signalkit())
class ProfileInlineTests(TestCase):
    def setUp(self) -> None:
        self.admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
        self.client.force_login(self.admin)

    def test_adding_a_user_with_inline_data_updates_the_created_profile(self) -> None:
        response = self.client.post(
            ADD_URL, add_form("newbie", nickname="Newbie", bio="Hello", timezone="Asia/Tokyo")
        )
        assert response.status_code == 302, response.context["errors"]
        user = User.objects.get(username="newbie")
        assert list(
            Profile.objects.filter(user=user).values_list("nickname", "bio", "timezone")
        ) == [("Newbie", "Hello", "Asia/Tokyo")]

    @override_settings(SIGNALKIT={"PROFILE": {"MODEL": "profilesapp.ChildProfile"}})
    def test_adding_a_user_updates_a_multi_table_profile_with_the_inline_data(self) -> None:
        # The user link is declared on the parent: the parent's row took the
        # inline's values, and the child's fields kept their defaults.
        group = Group.objects.create(name="editors")
        data = add_form(
            "child",
            prefix="profile_parent",
            key="profileparent_ptr",
            theme="dark",
            groups=[str(group.pk)],
        )
        response = self.client.post(ADD_URL, data)
        assert response.status_code == 302, response.context["errors"]
        profile = ChildProfile.objects.get(user__username="child")
        assert profile.theme == "dark"
        assert list(profile.groups.all()) == [group]
        assert ChildProfile.objects.count() == 1

    def test_adding_a_user_without_inline_changes_keeps_the_defaults(self) -> None:
        # An untouched extra form: what the browser sends with the initial values.
        response = self.client.post(ADD_URL, add_form("plain", nickname="", bio="", timezone="UTC"))
        assert response.status_code == 302
        profile = Profile.objects.get(user__username="plain")
        assert (profile.nickname, profile.timezone) == ("plain", "Europe/Paris")

    def test_change_page_edits_the_existing_profile(self) -> None:
        user = User.objects.create_user("existing")
        url = f"/admin/auth/user/{user.pk}/change/"
        page = self.client.get(url)
        assert page.status_code == 200
        assert 'name="profile-0-nickname"' in page.content.decode()
        formset = page.context["inline_admin_formsets"][0].formset
        assert formset.initial_form_count() == 1

    def test_model_and_fk_name_follow_the_setting(self) -> None:
        assert ProfileInline.model is Profile
        assert ProfileInline.fk_name == "user"
        with override_settings(SIGNALKIT=signalkit(MODEL="profilesapp.Preferences", DEFAULTS=None)):
            model: object = ProfileInline.model
            assert model is Preferences
        with override_settings(SIGNALKIT={}):
            assert ProfileInline.model is None

    def test_admin_checks_pass(self) -> None:
        assert site._registry[User].check() == []


TEAM = {
    **signalkit(
        MODEL="profilesapp.TeamProfile", DEFAULTS="tests.profilesapp.defaults.team_defaults"
    ),
    "RECEIVERS": {KEY: False},
}
CHILD = {"PROFILE": {"MODEL": "profilesapp.ChildProfile"}, "RECEIVERS": {KEY: False}}
LEAD = {**TEAM, "PROFILE": {**TEAM["PROFILE"], "MODEL": "profilesapp.LeadProfile"}}


def change_form(
    user: User, *, prefix: str = "-1", key: str = "sharedparent_ptr", **profile: Any
) -> dict[str, Any]:
    """What the change page of ``user`` posts. ``SharedParent.user`` has no
    related name: the inline's prefix is then the admin's ``-1``."""
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1",
        f"{prefix}-0-{key}": "",
        f"{prefix}-0-user": str(user.pk),
    }
    data.update({f"{prefix}-0-{name}": value for name, value in profile.items()})
    return data


@override_settings(ROOT_URLCONF="tests.profilesapp.urls", SIGNALKIT=TEAM)
class ExistingParentRowInlineTests(TestCase):
    """``TeamProfile(SharedParent)``: the user has a ``SharedParent`` row, no profile."""

    def setUp(self) -> None:
        self.client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
        self.user = UserFactory.create(username="ada")
        self.parent = SharedParent.objects.create(user=self.user, name="kept")
        self.url = f"/admin/auth/user/{self.user.pk}/change/"

    def test_saving_the_inline_creates_the_profile_on_the_parent_row(self) -> None:
        response = self.client.post(self.url, change_form(self.user, name="kept", role="admin"))
        assert response.status_code == 302, response.context["errors"]
        profile = TeamProfile.objects.get()
        assert (profile.pk, profile.user_id, profile.name, profile.role) == (
            self.parent.pk,
            self.user.pk,
            "kept",
            "admin",
        )
        assert SharedParent.objects.get().pk == self.parent.pk

    def test_the_typed_value_of_a_parent_field_wins(self) -> None:
        response = self.client.post(self.url, change_form(self.user, name="typed", role="admin"))
        assert response.status_code == 302, response.context["errors"]
        assert list(SharedParent.objects.values_list("pk", "name")) == [(self.parent.pk, "typed")]
        assert TeamProfile.objects.get().name == "typed"

    def test_the_form_shows_the_parent_rows_values(self) -> None:
        page = self.client.get(self.url)
        formset = page.context["inline_admin_formsets"][0].formset
        assert formset.initial_form_count() == 0
        form = formset.forms[0]
        assert (form["name"].value(), form["role"].value()) == ("kept", "")
        assert form["sharedparent_ptr"].value() is None
        assert 'name="-1-0-name" value="kept"' in page.content.decode()

    def test_saving_the_user_without_touching_the_inline_creates_no_profile(self) -> None:
        # The browser posts the values shown: the form has not changed.
        response = self.client.post(self.url, change_form(self.user, name="kept", role=""))
        assert response.status_code == 302, response.context["errors"]
        assert not TeamProfile.objects.exists()
        assert list(SharedParent.objects.values_list("pk", "name")) == [(self.parent.pk, "kept")]

    def test_a_missing_required_field_is_a_form_error(self) -> None:
        response = self.client.post(self.url, change_form(self.user, name="typed", role=""))
        assert response.status_code == 200
        errors = response.context["inline_admin_formsets"][0].formset.errors
        assert list(errors[0]) == ["role"]
        assert SharedParent.objects.get().name == "kept"

    def test_parent_fields_the_form_does_not_show_keep_the_rows_value(self) -> None:
        # And it is read when the profile is saved, not when the form was built.
        inline = ProfileInline(User, site)
        request = RequestFactory().post(self.url)
        request.user = User.objects.get(username="admin")
        formset_class = inline.get_formset(request, self.user, fields=["role"])
        formset = formset_class(
            change_form(self.user, role="admin"), instance=self.user, prefix="-1"
        )
        assert formset.forms[0]["role"].value() == "admin"
        SharedParent.objects.filter(pk=self.parent.pk).update(name="changed meanwhile")
        assert formset.is_valid(), formset.errors
        formset.save()
        profile = TeamProfile.objects.get()
        assert (profile.pk, profile.name, profile.role) == (
            self.parent.pk,
            "changed meanwhile",
            "admin",
        )

    def test_a_user_without_a_parent_row_gets_a_whole_profile(self) -> None:
        user = UserFactory.create(username="bob")
        url = f"/admin/auth/user/{user.pk}/change/"
        response = self.client.post(url, change_form(user, name="Bob", role="member"))
        assert response.status_code == 302, response.context["errors"]
        profile = TeamProfile.objects.get(user=user)
        assert (profile.name, profile.role) == ("Bob", "member")
        assert SharedParent.objects.count() == 2

    @override_settings(SIGNALKIT=LEAD)
    def test_the_nearest_existing_row_is_used(self) -> None:
        # LeadProfile(TeamProfile(SharedParent)): the user has a TeamProfile row.
        user = UserFactory.create(username="cy")
        team = TeamProfile.objects.create(user=user, name="team", role="admin")
        url = f"/admin/auth/user/{user.pk}/change/"
        form = self.client.get(url).context["inline_admin_formsets"][0].formset.forms[0]
        assert (form["name"].value(), form["role"].value(), form["budget"].value()) == (
            "team",
            "admin",
            0,
        )
        data = change_form(user, key="teamprofile_ptr", name="team", role="lead", budget="5")
        response = self.client.post(url, data)
        assert response.status_code == 302, response.context["errors"]
        lead = LeadProfile.objects.get()
        assert (lead.pk, lead.name, lead.role, lead.budget) == (team.pk, "team", "lead", 5)
        assert SharedParent.objects.filter(user=user).count() == 1

    @override_settings(SIGNALKIT=CHILD)
    def test_the_child_fields_and_many_to_many_fields_are_saved(self) -> None:
        user = UserFactory.create(username="dee")
        parent = ProfileParent.objects.create(user=user)
        group = Group.objects.create(name="editors")
        data = change_form(
            user,
            prefix="profile_parent",
            key="profileparent_ptr",
            theme="dark",
            groups=[str(group.pk)],
        )
        response = self.client.post(f"/admin/auth/user/{user.pk}/change/", data)
        assert response.status_code == 302, response.context["errors"]
        profile = ChildProfile.objects.get()
        assert (profile.pk, profile.theme) == (parent.pk, "dark")
        assert list(profile.groups.all()) == [group]
        assert ProfileParent.objects.filter(user=user).count() == 1
