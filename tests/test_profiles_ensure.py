from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError
from django.db.models.signals import pre_save
from django.test import TestCase, override_settings

from signalkit.profiles import aget_profile, get_profile
from signalkit.profiles.ensure import ensure_profile
from signalkit.profiles.receivers import KEY
from tests.factories import UserFactory
from tests.profilesapp.config import signalkit
from tests.profilesapp.models import (
    ChildProfile,
    HandleProfile,
    Note,
    Profile,
    ProfileParent,
    PublicProfile,
    UuidMember,
    UuidMemberProfile,
)

# Users made with the receiver switched off: they have no profile yet.
NO_RECEIVER = {**signalkit(), "RECEIVERS": {KEY: False}}


@override_settings(SIGNALKIT=NO_RECEIVER)
class GetProfileTests(TestCase):
    def test_missing_profile_is_created_with_defaults(self) -> None:
        user = UserFactory.create(username="lin")
        profile = get_profile(user)
        assert (profile.nickname, profile.timezone) == ("lin", "Europe/Paris")
        assert Profile.objects.count() == 1

    def test_existing_profile_is_returned(self) -> None:
        user = UserFactory.create()
        existing = Profile.objects.create(user=user, nickname="mine")
        assert get_profile(User.objects.get(pk=user.pk)) == existing
        assert Profile.objects.count() == 1

    def test_second_call_needs_no_query(self) -> None:
        user = UserFactory.create()
        first = get_profile(user)
        with self.assertNumQueries(0):
            assert get_profile(user) is first
            assert user.profile is first
            assert first.user is user

    def test_profile_missing_when_first_looked_up_is_created_and_cached(self) -> None:
        user = UserFactory.create()
        assert not hasattr(user, "profile")  # caches "no profile" on the user
        profile = get_profile(user)
        assert user.profile == profile

    @override_settings(
        SIGNALKIT={
            **signalkit(DEFAULTS="tests.profilesapp.defaults.not_a_dict"),
            "RECEIVERS": {KEY: False},
        }
    )
    def test_defaults_must_return_a_dict(self) -> None:
        with pytest.raises(
            ImproperlyConfigured,
            match=r"^SIGNALKIT\['PROFILE'\]\['DEFAULTS'\] returned \[\('nickname', 'x'\)\], "
            r"which is not a dict\. Return a dict of field values",
        ):
            get_profile(UserFactory.create())
        assert not Profile.objects.exists()

    @override_settings(
        SIGNALKIT={
            **signalkit(DEFAULTS="tests.profilesapp.defaults.misspelt"),
            "RECEIVERS": {KEY: False},
        }
    )
    def test_defaults_keys_must_be_fields_of_the_profile_model(self) -> None:
        with pytest.raises(
            ImproperlyConfigured,
            match=r"^SIGNALKIT\['PROFILE'\]\['DEFAULTS'\] returned a dict with 'nick', which "
            r"is not a field of profilesapp\.Profile\. Return only field names of the profile "
            r"model \(profilesapp\.Profile: user, nickname, bio, timezone\)\.$",
        ):
            get_profile(UserFactory.create())
        assert not Profile.objects.exists()

    def test_unsaved_user_is_refused(self) -> None:
        with pytest.raises(ValueError, match="not saved"):
            get_profile(User(username="ghost"))

    def test_user_built_with_the_key_of_a_saved_user_gets_its_profile(self) -> None:
        saved = UserFactory.create(username="built")
        profile = get_profile(User(pk=saved.pk))
        assert (profile.user_id, profile.nickname) == (saved.pk, "")
        assert Profile.objects.get().pk == profile.pk

    def test_user_built_with_the_key_of_no_saved_user_is_refused(self) -> None:
        # Its profile's foreign key pointed at no row: an IntegrityError, on
        # SQLite only when the transaction committed.
        with pytest.raises(ValueError, match="the user is not saved"):
            get_profile(User(pk=987654, username="ghost"))
        assert not Profile.objects.exists()

    def test_anonymous_user_is_refused_clearly(self) -> None:
        # (get_profile(request.user) on a request nobody is logged in to.)
        with pytest.raises(ValueError, match="not a saved user"):
            get_profile(AnonymousUser())

    @override_settings(SIGNALKIT={})
    def test_unset_setting_is_improperly_configured(self) -> None:
        with pytest.raises(ImproperlyConfigured, match=r"SIGNALKIT\['PROFILE'\] is not set"):
            get_profile(UserFactory.create())

    @override_settings(SIGNALKIT={"PROFILE": {**signalkit()["PROFILE"], "USER_FIELD": 5}})
    def test_invalid_setting_names_the_key_not_unset(self) -> None:
        with pytest.raises(
            ImproperlyConfigured,
            match=r"^SIGNALKIT\['PROFILE'\]\['USER_FIELD'\] is 5, which is not a field name\. "
            r"\(signalkit\.E003\) Set it to a field name\.$",
        ):
            get_profile(UserFactory.create())

    @override_settings(SIGNALKIT={"PROFILE": {"MODEL": "profilesapp.Profile", "DEFAULT": "x.y"}})
    def test_unknown_key_in_setting_is_named(self) -> None:
        with pytest.raises(
            ImproperlyConfigured,
            match=r"^SIGNALKIT\['PROFILE'\] has an unknown key 'DEFAULT'\. \(signalkit\.E002\) "
            r"Did you mean 'DEFAULTS'\?$",
        ):
            get_profile(UserFactory.create())

    @override_settings(SIGNALKIT={"PROFILE": {"USER_FIELD": "user"}})
    def test_setting_without_model_is_named(self) -> None:
        with pytest.raises(ImproperlyConfigured, match=r"has no 'MODEL' key\. \(signalkit\.E004\)"):
            get_profile(UserFactory.create())

    @override_settings(SIGNALKIT=signalkit(MODEL="profilesapp.Nope"))
    def test_broken_setting_names_the_check(self) -> None:
        with pytest.raises(ImproperlyConfigured, match=r"signalkit\.E010"):
            get_profile(UserFactory.build(pk=1))

    def test_aget_profile_creates_it(self) -> None:
        user = UserFactory.create(username="async")
        profile = async_to_sync(aget_profile)(user)
        assert profile.nickname == "async"
        assert Profile.objects.get().pk == profile.pk

    @override_settings(
        SIGNALKIT={
            **signalkit(DEFAULTS="tests.profilesapp.defaults.racing"),
            "RECEIVERS": {KEY: False},
        }
    )
    def test_insert_losing_a_race_returns_the_winner(self) -> None:
        user = UserFactory.create()
        profile, created = ensure_profile(user)
        assert (profile.nickname, created) == ("winner", False)
        assert Profile.objects.count() == 1

    def test_other_integrity_errors_propagate(self) -> None:
        user = UserFactory.create()

        def breaker(sender: Any, instance: Profile, **kwargs: Any) -> None:
            instance.nickname = None  # type: ignore[assignment]

        pre_save.connect(breaker, sender=Profile, weak=False)
        try:
            with pytest.raises(IntegrityError):
                ensure_profile(user)
        finally:
            pre_save.disconnect(breaker, sender=Profile)
        assert not Profile.objects.exists()


@override_settings(
    AUTH_USER_MODEL="profilesapp.UuidMember",
    SIGNALKIT={
        **signalkit(MODEL="profilesapp.UuidMemberProfile", USER_FIELD="member", DEFAULTS=None),
        "RECEIVERS": {KEY: False},
    },
)
class KeyWithDefaultTests(TestCase):
    """A user model whose primary key has a default: it is set before the first save."""

    def test_unsaved_user_is_refused(self) -> None:
        member = UuidMember(email="new@example.com")
        assert member.pk is not None
        with pytest.raises(ValueError, match="the user is not saved"):
            get_profile(member)
        assert not UuidMemberProfile.objects.exists()

    def test_saved_user_gets_a_profile(self) -> None:
        member = UuidMember.objects.create_user("saved@example.com")
        assert get_profile(member).member_id == member.pk
        loaded = UuidMember.objects.get(pk=member.pk)
        assert get_profile(loaded) == UuidMemberProfile.objects.get()

    def test_user_built_with_the_key_of_a_saved_user_gets_its_profile(self) -> None:
        member = UuidMember.objects.create_user("twin@example.com")
        # The user's row, the lookup, and the insert in its savepoint.
        with self.assertNumQueries(5):
            profile = get_profile(UuidMember(pk=member.pk, email="twin@example.com"))
        assert UuidMemberProfile.objects.get().pk == profile.pk


@override_settings(SIGNALKIT={"PROFILE": {"MODEL": "profilesapp.ChildProfile"}})
class InheritedUserLinkTests(TestCase):
    """The user link is declared on another model than the profile model: a
    multi-table parent (``ChildProfile``), or the concrete model of a proxy."""

    def test_parent_read_through_the_user_is_not_taken_for_the_profile(self) -> None:
        user = User.objects.get(pk=UserFactory.create().pk)
        assert type(user.profile_parent) is ProfileParent  # cached on the user
        profile = get_profile(user)
        assert type(profile) is ChildProfile
        assert profile.pk == ChildProfile.objects.get().pk

    def test_the_users_accessor_keeps_giving_the_parent(self) -> None:
        user = User.objects.get(pk=UserFactory.create().pk)
        profile = get_profile(user)
        assert type(profile) is ChildProfile
        assert type(user.profile_parent) is ProfileParent
        assert type(get_profile(user)) is ChildProfile

    @override_settings(SIGNALKIT=signalkit(MODEL="profilesapp.PublicProfile"))
    def test_proxy_profile_model_is_not_taken_from_the_concrete_models_accessor(self) -> None:
        user = User.objects.get(pk=UserFactory.create().pk)
        assert type(user.profile) is Profile
        profile = get_profile(user)
        assert type(profile) is PublicProfile
        assert type(user.profile) is Profile


@override_settings(SIGNALKIT=NO_RECEIVER)
class DefaultsThatCannotBeGivenTests(TestCase):
    """Keys Model() accepts by name but cannot set on a new profile."""

    def assert_refused(self, key: str, model: str) -> None:
        with pytest.raises(
            ImproperlyConfigured,
            match=rf"^SIGNALKIT\['PROFILE'\]\['DEFAULTS'\] returned a dict with {key}, "
            rf"which a new {model} cannot be given\. Return only field names of the profile "
            rf"model \({model}: ",
        ):
            get_profile(UserFactory.create())

    @override_settings(
        SIGNALKIT={**NO_RECEIVER, **signalkit(DEFAULTS="tests.profilesapp.defaults.with_badges")}
    )
    def test_reverse_foreign_key(self) -> None:
        self.assert_refused(r"'badges' \(a reverse relation\)", r"profilesapp\.Profile")
        assert not Profile.objects.exists()

    @override_settings(
        SIGNALKIT={**NO_RECEIVER, **signalkit(DEFAULTS="tests.profilesapp.defaults.with_note")}
    )
    def test_reverse_one_to_one(self) -> None:
        # Model() took it and left the note unsaved: lost without an error.
        self.assert_refused(r"'note' \(a reverse relation\)", r"profilesapp\.Profile")
        assert not Profile.objects.exists()
        assert not Note.objects.exists()

    @override_settings(
        SIGNALKIT={
            **NO_RECEIVER,
            **signalkit(
                MODEL="profilesapp.ChildProfile", DEFAULTS="tests.profilesapp.defaults.with_groups"
            ),
        }
    )
    def test_many_to_many_field(self) -> None:
        self.assert_refused(r"'groups' \(a many-to-many field\)", r"profilesapp\.ChildProfile")
        assert not ChildProfile.objects.exists()

    @override_settings(
        SIGNALKIT={
            **NO_RECEIVER,
            **signalkit(
                MODEL="profilesapp.ChildProfile", DEFAULTS="tests.profilesapp.defaults.with_label"
            ),
        }
    )
    def test_read_only_property(self) -> None:
        self.assert_refused(r"'label' \(a read-only property\)", r"profilesapp\.ChildProfile")
        assert not ChildProfile.objects.exists()

    @override_settings(
        SIGNALKIT={
            **NO_RECEIVER,
            **signalkit(
                MODEL="profilesapp.HandleProfile",
                DEFAULTS="tests.profilesapp.defaults.with_generated",
            ),
        }
    )
    def test_generated_field(self) -> None:
        # Model() took it, and the database computed the column: ignored silently.
        self.assert_refused(r"'handle_lower' \(a generated field\)", r"profilesapp\.HandleProfile")
        assert not HandleProfile.objects.exists()

    @override_settings(
        SIGNALKIT={
            **NO_RECEIVER,
            **signalkit(DEFAULTS="tests.profilesapp.defaults.another_users_key"),
        }
    )
    def test_the_user_fields_key(self) -> None:
        # Model() set user_id after user: the profile was created for another user.
        other = UserFactory.create(username="other")
        self.assert_refused(
            r"'user_id' \(the key of 'user', which is the user's\)", r"profilesapp\.Profile"
        )
        assert not Profile.objects.filter(user=other).exists()
        assert not Profile.objects.exists()


@override_settings(SIGNALKIT=NO_RECEIVER)
class UsingTests(TestCase):
    databases = {"default", "other"}

    def test_profile_is_created_on_the_users_database(self) -> None:
        user = User.objects.db_manager("other").create_user("remote")
        profile = get_profile(user)
        assert profile._state.db == "other"
        assert Profile.objects.using("other").count() == 1
        assert not Profile.objects.using("default").exists()

    def test_profile_is_created_where_the_router_sends_writes(self) -> None:
        primary = User.objects.db_manager("default").create_user("replicated")
        User.objects.using("other").bulk_create([User(pk=primary.pk, username="replicated")])
        with override_settings(DATABASE_ROUTERS=[f"{__name__}.ReplicaRouter"]):
            user = User.objects.get(pk=primary.pk)
            assert user._state.db == "other"
            profile = get_profile(user)
        assert profile._state.db == "default"
        assert Profile.objects.using("default").filter(user_id=primary.pk).exists()
        assert not Profile.objects.using("other").exists()


class ReplicaRouter:
    """Primary and replica: users and profiles are read from "other", written to "default"."""

    apps = frozenset({"auth", "profilesapp"})

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        return "other" if model._meta.app_label in self.apps else None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return "default" if model._meta.app_label in self.apps else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True
