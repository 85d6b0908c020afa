from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.test import TestCase, override_settings

from signalkit.profiles.admin import ProfileInline
from tests.profilesapp.admin_site import site
from tests.profilesapp.config import signalkit
from tests.profilesapp.models import ChildProfile, Preferences, Profile

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
