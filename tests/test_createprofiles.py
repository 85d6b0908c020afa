from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings

from tests.profilesapp.config import signalkit
from tests.profilesapp.models import ChildProfile, HandleProfile, Profile, RichProfile


def createprofiles(*args: str) -> str:
    out = StringIO()
    call_command("createprofiles", *args, stdout=out)
    return out.getvalue()


def make_users(count: int, *, using: str = "default") -> None:
    User.objects.using(using).bulk_create(
        [User(username=f"old{n}", password="!") for n in range(count)]
    )


@override_settings(SIGNALKIT=signalkit())
class CreateProfilesCommandTests(TestCase):
    databases = {"default", "other"}

    def test_prints_how_many_were_created(self) -> None:
        make_users(3)
        assert createprofiles("--batch-size", "2") == "Created 3 profiles.\n"
        assert Profile.objects.count() == 3

    def test_a_multi_table_child_of_the_user_model_is_refused(self) -> None:
        # Its "profile" of an existing user would overwrite the user's row.
        User.objects.create(username="ada", email="ada@example.com", is_staff=True)
        customer = signalkit(MODEL="profilesapp.Customer", USER_FIELD="user_ptr", DEFAULTS=None)
        with (
            override_settings(SIGNALKIT=customer),
            pytest.raises(CommandError, match=r"multi-table child of auth\.User"),
        ):
            createprofiles()
        assert User.objects.filter(username="ada", email="ada@example.com", is_staff=True).exists()

    def test_second_run_creates_none(self) -> None:
        make_users(1)
        assert createprofiles() == "Created 1 profile.\n"
        assert createprofiles() == "Every user has a profile: nothing to create.\n"

    def test_dry_run_counts_and_creates_nothing(self) -> None:
        make_users(2)
        assert createprofiles("--dry-run") == "Would create 2 profiles.\n"
        assert not Profile.objects.exists()

    def test_database_option(self) -> None:
        make_users(2, using="other")
        assert createprofiles("--database", "other") == "Created 2 profiles.\n"
        assert Profile.objects.using("other").count() == 2
        assert not Profile.objects.exists()

    def test_loaded_fixture_users_are_skipped_then_backfilled(self) -> None:
        call_command("loaddata", "profiles_users", verbosity=0)
        assert User.objects.filter(pk__in=[901, 902]).count() == 2
        assert not Profile.objects.exists()
        assert createprofiles() == "Created 2 profiles.\n"
        assert sorted(Profile.objects.values_list("user_id", "nickname")) == [
            (901, "fixture-ada"),
            (902, "fixture-grace"),
        ]

    def test_unknown_database_is_an_error(self) -> None:
        with pytest.raises(
            CommandError,
            match=r"^Unknown database 'nope'\. Known databases: default, other, offload\.$",
        ):
            createprofiles("--database", "nope")

    def test_batch_size_below_one_is_an_error(self) -> None:
        with pytest.raises(CommandError, match=r"^--batch-size is 0; it must be at least 1\.$"):
            createprofiles("--batch-size", "0")

    @override_settings(SIGNALKIT={})
    def test_unset_profile_is_an_error(self) -> None:
        with pytest.raises(CommandError, match=r"^SIGNALKIT\['PROFILE'\] is not set\."):
            createprofiles()

    @override_settings(SIGNALKIT=signalkit(MODEL="profilesapp.Nope"))
    def test_broken_profile_setting_is_an_error(self) -> None:
        with pytest.raises(CommandError, match=r"is not an installed model\. \(signalkit\.E010\)"):
            createprofiles()

    @override_settings(SIGNALKIT={"PROFILE": {"MODEL": "profilesapp.Profile", "DEFAULT": "x.y"}})
    def test_invalid_profile_setting_names_the_key(self) -> None:
        with pytest.raises(
            CommandError,
            match=r"^SIGNALKIT\['PROFILE'\] has an unknown key 'DEFAULT'\. \(signalkit\.E002\)",
        ):
            createprofiles()

    @override_settings(SIGNALKIT={"PROFILE": "profilesapp.Profile"})
    def test_profile_setting_that_is_not_a_dict_is_an_error(self) -> None:
        with pytest.raises(
            CommandError,
            match=r"^SIGNALKIT\['PROFILE'\] is 'profilesapp\.Profile', which is not a dict\.",
        ):
            createprofiles("--dry-run")

    @override_settings(SIGNALKIT=signalkit(DEFAULTS="tests.profilesapp.defaults.not_a_dict"))
    def test_defaults_returning_a_non_dict_is_an_error(self) -> None:
        make_users(1)
        with pytest.raises(
            CommandError,
            match=r"^SIGNALKIT\['PROFILE'\]\['DEFAULTS'\] returned \[\('nickname', 'x'\)\], "
            r"which is not a dict\.",
        ):
            createprofiles()
        assert not Profile.objects.exists()

    @override_settings(SIGNALKIT=signalkit(DEFAULTS="tests.profilesapp.defaults.misspelt"))
    def test_defaults_with_a_key_that_is_not_a_field_is_an_error(self) -> None:
        make_users(1)
        with pytest.raises(
            CommandError,
            match=r"^SIGNALKIT\['PROFILE'\]\['DEFAULTS'\] returned a dict with 'nick', which "
            r"is not a field of profilesapp\.Profile\.",
        ):
            createprofiles()
        assert not Profile.objects.exists()

    @override_settings(SIGNALKIT=signalkit(DEFAULTS="tests.profilesapp.defaults.with_badges"))
    def test_defaults_with_a_reverse_relation_is_an_error(self) -> None:
        make_users(1)
        with pytest.raises(
            CommandError,
            match=r"^SIGNALKIT\['PROFILE'\]\['DEFAULTS'\] returned a dict with 'badges' "
            r"\(a reverse relation\), which a new profilesapp\.Profile cannot be given\.",
        ):
            createprofiles()
        assert not Profile.objects.exists()

    @override_settings(
        SIGNALKIT=signalkit(
            MODEL="profilesapp.ChildProfile", DEFAULTS="tests.profilesapp.defaults.with_groups"
        )
    )
    def test_defaults_with_a_many_to_many_field_is_an_error(self) -> None:
        make_users(1)
        with pytest.raises(
            CommandError,
            match=r"^SIGNALKIT\['PROFILE'\]\['DEFAULTS'\] returned a dict with 'groups' "
            r"\(a many-to-many field\), which a new profilesapp\.ChildProfile cannot be given\.",
        ):
            createprofiles()
        assert not ChildProfile.objects.exists()

    @override_settings(
        SIGNALKIT=signalkit(
            MODEL="profilesapp.HandleProfile", DEFAULTS="tests.profilesapp.defaults.with_generated"
        )
    )
    def test_defaults_with_a_generated_field_is_an_error(self) -> None:
        make_users(1)
        with pytest.raises(
            CommandError,
            match=r"^SIGNALKIT\['PROFILE'\]\['DEFAULTS'\] returned a dict with 'handle_lower' "
            r"\(a generated field\), which a new profilesapp\.HandleProfile cannot be given\. "
            r"Return only field names of the profile model \(profilesapp\.HandleProfile: "
            r"user, handle\);",
        ):
            createprofiles()
        assert not HandleProfile.objects.exists()

    @override_settings(SIGNALKIT=signalkit(DEFAULTS="tests.profilesapp.defaults.no_nickname"))
    def test_profiles_the_database_refuses_are_an_error(self) -> None:
        make_users(3)
        with pytest.raises(CommandError) as raised:
            createprofiles("--batch-size", "2")
        message = str(raised.value)
        assert message.startswith("A batch of 2 profile(s) was refused 4 times: ")
        assert "(0 profile(s) of earlier batches were created.)" in message
        assert message.endswith(
            "Check the values SIGNALKIT['PROFILE']['DEFAULTS'] gives "
            "the profile's required and unique fields."
        )
        assert not Profile.objects.exists()

    @override_settings(SIGNALKIT={"PROFILE": {"MODEL": "profilesapp.RichProfile"}})
    def test_multi_table_profile_model(self) -> None:
        make_users(3)
        assert createprofiles("--batch-size", "2") == "Created 3 profiles.\n"
        assert sorted(RichProfile.objects.values_list("user__username", "theme")) == [
            ("old0", "light"),
            ("old1", "light"),
            ("old2", "light"),
        ]
