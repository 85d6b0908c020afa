from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import serializers
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models.signals import post_save
from django.test import TestCase, override_settings

from signalkit.keys import receiver_key
from signalkit.profiles import receivers as receivers_module
from signalkit.profiles.receivers import DISPATCH_UID, KEY, connect, create_profile
from signalkit.registry import registry
from tests.factories import UserFactory
from tests.profilesapp import defaults
from tests.profilesapp.config import signalkit
from tests.profilesapp.models import (
    Customer,
    Member,
    MemberProfile,
    Preferences,
    Profile,
    StaffUser,
    VipCustomer,
)


@override_settings(SIGNALKIT=signalkit())
class CreateProfileTests(TestCase):
    def test_new_user_gets_a_profile_with_defaults(self) -> None:
        user = User.objects.create_user("ada")
        profile = Profile.objects.get(user=user)
        assert (profile.nickname, profile.timezone, profile.bio) == ("ada", "Europe/Paris", "")

    def test_defaults_callable_receives_the_user(self) -> None:
        defaults.calls.clear()
        user = UserFactory.create()
        assert defaults.calls == [user]

    def test_second_save_creates_no_duplicate(self) -> None:
        user = UserFactory.create()
        user.first_name = "Ada"
        user.save()
        post_save.send(User, instance=user, created=True, raw=False, using="default")
        assert Profile.objects.filter(user=user).count() == 1

    def test_existing_profile_is_kept_when_created_is_resent(self) -> None:
        user = UserFactory.create()
        Profile.objects.filter(user=user).update(nickname="kept")
        post_save.send(User, instance=user, created=True, raw=False, using="default")
        assert list(Profile.objects.values_list("nickname", flat=True)) == ["kept"]

    def test_raw_save_is_skipped(self) -> None:
        user = User(username="raw", password="!")
        user.save_base(raw=True)
        assert user.pk is not None
        assert not Profile.objects.exists()

    def test_deserialized_user_gets_no_profile(self) -> None:
        data = (
            '[{"model": "auth.user", "pk": 77, "fields": {"username": "loaded", "password": "!"}}]'
        )
        for obj in serializers.deserialize("json", data):
            obj.save()
        assert User.objects.filter(pk=77).exists()
        assert not Profile.objects.exists()

    def test_proxy_user_gets_a_profile(self) -> None:
        staff = StaffUser.objects.create(username="proxy", password="!")
        assert Profile.objects.get(user_id=staff.pk).nickname == "proxy"

    def test_multi_table_child_of_the_user_model_gets_a_profile(self) -> None:
        customer = Customer.objects.create(username="buyer", password="!")
        assert Profile.objects.get(user_id=customer.pk).nickname == "buyer"

    def test_proxy_of_a_multi_table_child_gets_a_profile(self) -> None:
        vip = VipCustomer.objects.create(username="vip", password="!")
        assert Profile.objects.filter(user_id=vip.pk).count() == 1

    def test_other_models_are_ignored(self) -> None:
        user = UserFactory.create()
        Profile.objects.all().delete()
        Preferences.objects.create(user=user)
        assert not Profile.objects.exists()

    def test_a_user_a_data_migration_creates_gets_no_profile_there(self) -> None:
        # A data migration's historical user model has the user model's label;
        # the profile's queries refused its instance ("Must be "User" instance"),
        # which made migrate fail.
        state = MigrationExecutor(connection).loader.project_state()
        historical = state.apps.get_model("auth", "User")
        created = historical.objects.create(username="admin")
        assert not Profile.objects.exists()
        assert not any(sender is historical for sender in receivers_module._lineages)
        call_command("createprofiles", stdout=StringIO())
        assert Profile.objects.get().user_id == created.pk

    @override_settings(SIGNALKIT={**signalkit(), "RECEIVERS": {KEY: False}})
    def test_toggled_off_creates_nothing(self) -> None:
        UserFactory.create()
        assert not Profile.objects.exists()

    @override_settings(SIGNALKIT={})
    def test_unset_profile_creates_nothing(self) -> None:
        UserFactory.create()
        assert not Profile.objects.exists()

    @override_settings(SIGNALKIT={"PROFILE": {**signalkit()["PROFILE"], "USER_FIELD": 5}})
    def test_invalid_setting_raises_naming_the_key(self) -> None:
        with pytest.raises(
            ImproperlyConfigured, match=r"^SIGNALKIT\['PROFILE'\]\['USER_FIELD'\] is 5"
        ):
            UserFactory.create()

    @override_settings(SIGNALKIT={"PROFILE": {"USER_FIELD": 5}, "RECEIVERS": {KEY: False}})
    def test_invalid_setting_is_ignored_when_toggled_off(self) -> None:
        UserFactory.create()
        assert not Profile.objects.exists()

    @override_settings(SIGNALKIT={"PROFILE": {"USER_FIELD": 5}})
    def test_invalid_setting_is_not_read_for_other_models(self) -> None:
        Preferences.objects.create(user=User.objects.bulk_create([User(username="x")])[0])

    @override_settings(SIGNALKIT=signalkit(DEFAULTS="tests.profilesapp.defaults.not_a_dict"))
    def test_defaults_returning_a_non_dict_raises_naming_the_key(self) -> None:
        with pytest.raises(
            ImproperlyConfigured, match=r"^SIGNALKIT\['PROFILE'\]\['DEFAULTS'\] returned"
        ):
            UserFactory.create()

    @override_settings(SIGNALKIT=signalkit(MODEL="profilesapp.Preferences", DEFAULTS=None))
    def test_settings_are_read_at_call_time(self) -> None:
        user = UserFactory.create()
        assert not Profile.objects.exists()
        assert Preferences.objects.get(user=user).theme == "light"


@override_settings(
    AUTH_USER_MODEL="profilesapp.Member",
    SIGNALKIT=signalkit(MODEL="profilesapp.MemberProfile", USER_FIELD="member", DEFAULTS=None),
)
class CustomUserModelTests(TestCase):
    def test_custom_user_model_gets_a_profile(self) -> None:
        member = Member.objects.create_user("grace@example.com")
        assert MemberProfile.objects.get(member=member).display_name == ""

    def test_the_default_user_model_is_then_ignored(self) -> None:
        UserFactory.create()
        Customer.objects.create(username="buyer", password="!")
        assert not MemberProfile.objects.exists()
        assert not Profile.objects.exists()


@override_settings(SIGNALKIT=signalkit())
class UsingTests(TestCase):
    databases = {"default", "other"}

    def test_profile_is_written_on_the_using_alias(self) -> None:
        user = User.objects.db_manager("other").create_user("remote")
        assert Profile.objects.using("other").get(user_id=user.pk).nickname == "remote"
        assert not Profile.objects.using("default").exists()


class ReceiverKeyTests(TestCase):
    def test_key_is_the_documented_one(self) -> None:
        assert KEY == "signalkit.profiles.receivers.create_profile"
        assert receiver_key(create_profile) == KEY

    def test_connect_is_idempotent(self) -> None:
        with override_settings(SIGNALKIT=signalkit()):
            before = len(post_save.receivers)
            connect()
            connect()
            assert len(post_save.receivers) == before
            assert post_save.has_listeners(User)

    def test_connected_once_profile_is_set(self) -> None:
        # Without PROFILE, saves pay nothing and listings show no idle receiver.
        def connected() -> bool:
            return any(info.key == KEY for info in registry.receivers(post_save))

        was_connected = connected()
        post_save.disconnect(dispatch_uid=DISPATCH_UID)  # as started without PROFILE
        try:
            with override_settings(SIGNALKIT={}):
                assert not connected()
            with override_settings(SIGNALKIT=signalkit()):
                assert connected()
            assert connected()  # in its place, doing nothing
            post_save.disconnect(dispatch_uid=DISPATCH_UID)
            # An invalid PROFILE too: its receiver raises, naming the problem.
            with override_settings(SIGNALKIT={"PROFILE": {"USER_FIELD": 5}}):
                assert connected()
        finally:
            post_save.disconnect(dispatch_uid=DISPATCH_UID)
            if was_connected:
                post_save.connect(create_profile, dispatch_uid=DISPATCH_UID)

    def test_keeps_its_place_before_later_receivers_when_the_setting_changes(self) -> None:
        # A project's receiver connected after it finds the new user's profile,
        # also once a test changed SIGNALKIT without PROFILE and changed it back.
        found: list[bool] = []

        def reads_profile(sender: type[User], *, instance: User, **kwargs: object) -> None:
            found.append(Profile.objects.filter(user=instance).exists())

        with override_settings(SIGNALKIT=signalkit()):
            post_save.connect(reads_profile, sender=User)
            try:
                with override_settings(SIGNALKIT={}):
                    pass
                UserFactory.create()
            finally:
                post_save.disconnect(reads_profile, sender=User)
        assert found == [True]


# A project app listed before signalkit (as the installation guide lists it: last)
# connects a receiver that reads the new user's profile, in its models module or
# its ready(): both run before signalkit's ready().
EARLY_READER = """
import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                    "tests.profilesapp", "signalkit"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    SIGNALKIT={"PROFILE": {"MODEL": "profilesapp.Profile",
                           "DEFAULTS": "tests.profilesapp.defaults.profile_defaults"}},
    USE_TZ=True,
)
from django.db.models.signals import post_save

def welcome(sender, instance, created, **kwargs):
    if created:
        print("welcome", instance.profile.nickname)

post_save.connect(welcome, sender="auth.User")  # connected while the models load
django.setup()
from django.core.management import call_command

call_command("migrate", verbosity=0)
from django.contrib.auth.models import User

User.objects.create_user("ada")
"""


class ReceiverOrderTests:
    def test_runs_before_receivers_connected_while_the_models_load(self) -> None:
        run = subprocess.run(
            [sys.executable, "-W", "error", "-c", EARLY_READER],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout == "welcome ada\n"
