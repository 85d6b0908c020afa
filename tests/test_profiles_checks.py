from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from django.test import SimpleTestCase, override_settings

from signalkit.profiles.checks import check_profile, check_profile_inline
from tests.profilesapp.config import signalkit


def run(**profile: Any) -> list[tuple[str | None, str]]:
    with override_settings(SIGNALKIT=signalkit(**profile)):
        return [(message.id, message.msg) for message in check_profile()]


GUIDE = Path(__file__).resolve().parent.parent / "docs" / "profiles.rst"
# The guide's project, as the profile test app spells it.
GUIDE_NAMES = {
    "accounts.Profile": "profilesapp.Profile",
    "accounts.profiles.defaults": "tests.profilesapp.defaults.profile_defaults",
}


def guide_settings() -> list[dict[str, Any]]:
    """Each ``SIGNALKIT = {...}`` block of the profiles guide, for the test app."""
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", GUIDE.read_text())
    found = []
    for block in blocks:
        code = textwrap.dedent(block)
        if not code.startswith("SIGNALKIT = {"):
            continue
        for name, test_name in GUIDE_NAMES.items():
            code = code.replace(f'"{name}"', f'"{test_name}"')
        namespace: dict[str, Any] = {}
        exec(code, namespace)
        found.append(namespace["SIGNALKIT"])
    return found


class CheckProfileTests(SimpleTestCase):
    def test_settings_of_the_guide_pass_with_its_profile_model(self) -> None:
        # Its Profile has a required field: a PROFILE without DEFAULTS is E012.
        examples = guide_settings()
        assert len(examples) == 2
        for example in examples:
            with override_settings(SIGNALKIT=example):
                assert [message.id for message in check_profile()] == [], example

    def test_valid_setting_passes(self) -> None:
        assert run() == []

    def test_all_defaults_model_needs_no_defaults_callable(self) -> None:
        assert run(MODEL="profilesapp.Preferences", DEFAULTS=None) == []

    def test_unique_foreign_key_by_constraint_is_accepted(self) -> None:
        assert run(MODEL="profilesapp.Membership", USER_FIELD="account", DEFAULTS=None) == []

    def test_unset_profile_passes(self) -> None:
        with override_settings(SIGNALKIT={}):
            assert check_profile() == []

    def test_model_not_installed_is_e010(self) -> None:
        assert run(MODEL="accounts.Profile") == [
            (
                "signalkit.E010",
                "SIGNALKIT['PROFILE']['MODEL'] is 'accounts.Profile', which is not an installed model.",
            )
        ]

    def test_missing_user_field_is_e011(self) -> None:
        assert run(USER_FIELD="owner") == [
            (
                "signalkit.E011",
                "SIGNALKIT['PROFILE']['USER_FIELD'] is 'owner': profilesapp.Profile has no such field.",
            )
        ]

    def test_plain_field_is_e011(self) -> None:
        assert run(USER_FIELD="nickname") == [
            (
                "signalkit.E011",
                "SIGNALKIT['PROFILE']['USER_FIELD'] is 'nickname': profilesapp.Profile.nickname is "
                "not a OneToOneField or a unique ForeignKey to auth.User.",
            )
        ]

    def test_non_unique_foreign_key_is_e011(self) -> None:
        assert [id for id, _ in run(MODEL="profilesapp.Note", DEFAULTS=None)] == ["signalkit.E011"]

    def test_one_to_one_to_another_model_is_e011(self) -> None:
        messages = run(MODEL="profilesapp.Note", USER_FIELD="profile")
        assert messages == [
            (
                "signalkit.E011",
                "SIGNALKIT['PROFILE']['USER_FIELD'] is 'profile': profilesapp.Note.profile is "
                "not a OneToOneField or a unique ForeignKey to auth.User.",
            )
        ]

    def test_multi_table_child_of_the_user_model_is_e011(self) -> None:
        # (Creating one for an existing user would overwrite the user's row.)
        messages = run(MODEL="profilesapp.Customer", USER_FIELD="user_ptr", DEFAULTS=None)
        assert messages == [
            (
                "signalkit.E011",
                "SIGNALKIT['PROFILE']['USER_FIELD'] is 'user_ptr': profilesapp.Customer is a "
                "multi-table child of auth.User (user_ptr is its parent link), not a profile of "
                "it: creating one for an existing user would overwrite the user's row.",
            )
        ]

    def test_required_fields_without_defaults_is_e012(self) -> None:
        assert run(DEFAULTS=None) == [
            (
                "signalkit.E012",
                "SIGNALKIT['PROFILE']: profilesapp.Profile has required fields without a default "
                "(nickname) and 'DEFAULTS' is None.",
            )
        ]

    def test_unimportable_defaults_is_e013(self) -> None:
        [(id, message)] = run(DEFAULTS="tests.profilesapp.defaults.missing")
        assert id == "signalkit.E013"
        assert message.startswith(
            "SIGNALKIT['PROFILE']['DEFAULTS'] is 'tests.profilesapp.defaults.missing', "
            "which cannot be imported:"
        )

    def test_defaults_whose_module_raises_is_e013_not_a_crash(self) -> None:
        [(id, message)] = run(DEFAULTS="tests.profilesapp.broken_defaults.defaults")
        assert id == "signalkit.E013"
        assert message.endswith("which cannot be imported: RuntimeError: broken on purpose")

    def test_user_model_not_installed_is_e011_not_a_crash(self) -> None:
        with override_settings(AUTH_USER_MODEL="nope.User"):
            [(id, message)] = run(MODEL="profilesapp.Preferences", DEFAULTS=None)
        assert id == "signalkit.E011"
        assert "AUTH_USER_MODEL refers to model 'nope.User'" in message

    def test_not_callable_defaults_is_e013(self) -> None:
        assert run(DEFAULTS="tests.profilesapp.defaults.NOT_CALLABLE") == [
            (
                "signalkit.E013",
                "SIGNALKIT['PROFILE']['DEFAULTS'] is 'tests.profilesapp.defaults.NOT_CALLABLE', "
                "which is not callable.",
            )
        ]

    def test_problems_with_field_and_defaults_are_all_reported(self) -> None:
        ids = [id for id, _ in run(USER_FIELD="bio", DEFAULTS="tests.nowhere.func")]
        assert ids == ["signalkit.E011", "signalkit.E013"]

    def test_check_is_registered(self) -> None:
        from django.core.checks import Tags
        from django.core.checks.registry import registry

        from signalkit.profiles.checks import check_profile

        # Only the models-tagged checks' registry, not a run of every model check
        # (those query the database for its features).
        assert check_profile in registry.get_checks()
        assert Tags.models in check_profile.tags


class CheckProfileInlineTests(SimpleTestCase):
    def test_inline_with_profile_unset_is_e014_naming_the_setting(self) -> None:
        from tests.profilesapp.admin_site import UserWithProfileAdmin

        with override_settings(SIGNALKIT={}):
            errors = [
                error
                for error in check_profile_inline()
                if error.obj.__class__ is UserWithProfileAdmin
            ]
        assert [(error.id, error.msg) for error in errors] == [
            (
                "signalkit.E014",
                "signalkit.profiles.admin.ProfileInline is in the admin of auth.User "
                "(site 'profilesadmin'), but SIGNALKIT['PROFILE'] is not set: the inline "
                "has no profile model.",
            )
        ]

    def test_inline_with_profile_set_passes(self) -> None:
        with override_settings(SIGNALKIT=signalkit()):
            assert check_profile_inline() == []

    def test_pinned_subclass_passes_with_profile_unset(self) -> None:
        from django.contrib import admin
        from django.contrib.auth.admin import UserAdmin
        from django.contrib.auth.models import User

        from signalkit.profiles.admin import ProfileInline
        from tests.profilesapp.models import Profile

        class PinnedInline(ProfileInline):
            model = Profile
            fk_name = "user"

        class PinnedAdmin(UserAdmin):  # type: ignore[type-arg]
            inlines = [PinnedInline]

        site = admin.AdminSite(name="pinned")
        site.register(User, PinnedAdmin)
        with override_settings(SIGNALKIT={}):
            assert [error for error in check_profile_inline() if error.obj.admin_site is site] == []

    def test_only_the_admins_of_the_apps_checked_are_reported(self) -> None:
        # (manage.py check registryapp: Django's own admin checks skip auth.User.)
        from django.apps import apps

        with override_settings(SIGNALKIT={}):
            errors = check_profile_inline(app_configs=[apps.get_app_config("registryapp")])
        assert errors == []
