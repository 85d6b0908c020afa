from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models.signals import post_save
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from signalkit.profiles.backfill import count_missing, create_missing
from tests.profilesapp.config import signalkit
from tests.profilesapp.models import Preferences, Profile, RichProfile


def make_users(count: int, *, using: str = "default") -> list[User]:
    # bulk_create sends no post_save: these users have no profile, like users
    # created before PROFILE was set.
    return User.objects.using(using).bulk_create(
        [User(username=f"old{n}", password="!") for n in range(count)]
    )


@override_settings(SIGNALKIT=signalkit())
class CreateMissingTests(TestCase):
    def test_creates_one_profile_per_user_with_defaults(self) -> None:
        make_users(3)
        assert create_missing(batch_size=2) == 3
        assert sorted(Profile.objects.values_list("nickname", "timezone")) == [
            ("old0", "Europe/Paris"),
            ("old1", "Europe/Paris"),
            ("old2", "Europe/Paris"),
        ]

    def test_is_idempotent(self) -> None:
        make_users(3)
        create_missing()
        assert create_missing() == 0
        assert Profile.objects.count() == 3

    def test_users_with_a_profile_are_skipped(self) -> None:
        users = make_users(3)
        Profile.objects.create(user=users[1], nickname="kept")
        assert count_missing() == 2
        assert create_missing(batch_size=1) == 2
        assert Profile.objects.get(user=users[1]).nickname == "kept"

    @override_settings(SIGNALKIT=signalkit(DEFAULTS="tests.profilesapp.defaults.racing_backfill"))
    def test_batch_racing_a_concurrent_profile_is_written_again_without_it(self) -> None:
        make_users(3)
        assert create_missing() == 2
        assert sorted(Profile.objects.values_list("nickname", flat=True)) == [
            "concurrent",
            "old0",
            "old2",
        ]

    def test_batch_size_below_one_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"^batch_size is 0; it must be at least 1\.$"):
            create_missing(batch_size=0)

    @override_settings(SIGNALKIT=signalkit(MODEL="profilesapp.Preferences", DEFAULTS=None))
    def test_hidden_reverse_relation_and_no_defaults(self) -> None:
        make_users(4)
        assert create_missing(batch_size=3) == 4
        assert Preferences.objects.count() == 4

    @override_settings(SIGNALKIT={"PROFILE": {"MODEL": "profilesapp.RichProfile"}})
    def test_multi_table_profile_model_is_saved_one_by_one(self) -> None:
        users = make_users(3)
        RichProfile.objects.create(user=users[1], theme="dark")
        saved: list[RichProfile] = []

        def record(sender: type[RichProfile], instance: RichProfile, **kwargs: Any) -> None:
            saved.append(instance)

        post_save.connect(record, sender=RichProfile, weak=False)
        try:
            assert create_missing(batch_size=1) == 2
        finally:
            post_save.disconnect(record, sender=RichProfile)
        assert sorted(profile.user.username for profile in saved) == ["old0", "old2"]
        assert sorted(RichProfile.objects.values_list("user__username", "theme")) == [
            ("old0", "light"),
            ("old1", "dark"),
            ("old2", "light"),
        ]

    def test_queries_grow_with_batches_not_users(self) -> None:
        make_users(10_000)
        with CaptureQueriesContext(connection) as queries:
            assert create_missing(batch_size=1000) == 10_000
        # Per batch: one SELECT, a savepoint and its release, and the INSERTs
        # that the backend's parameter limit splits one bulk_create into.
        inserts_per_batch = -(-1000 // connection.ops.bulk_batch_size(["a"] * 4, [None] * 1000))
        batches = 10 + 1  # the last SELECT finds nobody
        assert len(queries) <= batches * (3 + inserts_per_batch), len(queries)
        assert Profile.objects.count() == 10_000


@override_settings(SIGNALKIT=signalkit())
class CreateMissingUsingTests(TestCase):
    databases = {"default", "other"}

    def test_only_the_given_database_is_filled(self) -> None:
        make_users(2, using="other")
        make_users(1)
        assert create_missing(using="other") == 2
        assert Profile.objects.using("other").count() == 2
        assert not Profile.objects.using("default").exists()
