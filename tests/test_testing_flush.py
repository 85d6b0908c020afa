from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.apps import apps
from django.db.models.signals import post_migrate, post_save
from django.test import TransactionTestCase

from signalkit import gate
from signalkit.testing import MuteSignalsMixin, mute_signals
from tests.test_testing_mute import run_case

if TYPE_CHECKING:
    from collections.abc import Iterator

migrated: list[str] = []


def on_migrate(sender: Any, **kwargs: Any) -> None:
    migrated.append(sender.label)


@pytest.fixture(autouse=True)
def receiver() -> Iterator[None]:
    migrated.clear()
    post_migrate.connect(on_migrate, dispatch_uid="test_testing_flush.on_migrate")
    yield
    post_migrate.disconnect(dispatch_uid="test_testing_flush.on_migrate")
    assert gate.active_mutes() == ()


def send_post_migrate() -> None:
    post_migrate.send(apps.get_app_config("testapp"), app_config=None)


@pytest.mark.django_db(transaction=True)
class FlushAfterMutedTransactionTestCaseTests:
    """The flush after each test sends post_migrate for the tests that follow:
    its receivers run, whatever the class mutes."""

    @pytest.mark.parametrize("scope", ["context", "process"])
    def test_class_decorator(self, scope: str) -> None:
        @mute_signals(scope=scope)
        class Case(TransactionTestCase):
            def test_muted(self) -> None:
                pass

        result = run_case(Case)
        assert result.wasSuccessful(), result.errors
        assert "testapp" in migrated

    @pytest.mark.parametrize("scope", ["context", "process"])
    def test_mixin(self, scope: str) -> None:
        class Case(MuteSignalsMixin, TransactionTestCase):
            muted_signals = [post_migrate]
            mute_scope = scope

            def test_muted(self) -> None:
                send_post_migrate()
                assert migrated == []

        result = run_case(Case)
        assert result.wasSuccessful(), result.errors
        assert "testapp" in migrated

    def test_each_test_is_muted_after_the_flush_before_it(self) -> None:
        @mute_signals(post_migrate)
        class Case(TransactionTestCase):
            def test_one(self) -> None:
                send_post_migrate()

            def test_two(self) -> None:
                send_post_migrate()

        assert run_case(Case).wasSuccessful()
        # Once per flush: never from the tests.
        assert migrated.count("testapp") == 2


AVAILABLE_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "signalkit",
    "tests.testapp",
    "tests.profilesapp",
]
saved: list[str] = []


def on_save(sender: Any, **kwargs: Any) -> None:
    saved.append(sender.__name__)


@pytest.fixture
def save_receiver() -> Iterator[None]:
    saved.clear()
    post_save.connect(on_save, dispatch_uid="test_testing_flush.on_save")
    yield
    post_save.disconnect(dispatch_uid="test_testing_flush.on_save")


def available_apps_case() -> type[TransactionTestCase]:
    class Case(TransactionTestCase):
        available_apps = AVAILABLE_APPS
        fixtures = ["profiles_users"]

        def test_one(self) -> None:
            sent = len(migrated)
            send_post_migrate()
            assert len(migrated) == sent

        def test_two(self) -> None:
            self.test_one()

    return Case


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("save_receiver")
class PreSetupOfAvailableAppsTests:
    """With available_apps, no flush sends post_migrate: each test's _pre_setup
    does, for those apps. Its receivers run, whatever the class mutes; the
    fixtures it loads, and the tests, are muted."""

    @pytest.mark.parametrize("scope", ["context", "process"])
    def test_class_decorator(self, scope: str) -> None:
        Case = mute_signals(post_migrate, post_save, scope=scope)(available_apps_case())

        result = run_case(Case)
        assert result.wasSuccessful(), result.errors + result.failures
        assert migrated.count("testapp") == 2
        assert saved == []

    @pytest.mark.parametrize("scope", ["context", "process"])
    def test_mixin(self, scope: str) -> None:
        class Case(MuteSignalsMixin, available_apps_case()):  # type: ignore[misc]
            muted_signals = [post_migrate, post_save]
            mute_scope = scope

        result = run_case(Case)
        assert result.wasSuccessful(), result.errors + result.failures
        assert migrated.count("testapp") == 2
        assert saved == []
