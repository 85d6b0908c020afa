from __future__ import annotations

from typing import TYPE_CHECKING

from tests.test_pytest_plugin import run_pytest

if TYPE_CHECKING:
    from pathlib import Path

DATABASE_TESTS = """\
import pytest
from django.db.models.signals import post_migrate

migrated = []


def on_migrate(sender, **kwargs):
    migrated.append(sender.label)


# Connected as the module is collected: before the test databases exist.
post_migrate.connect(on_migrate)


@pytest.mark.mute_signals()
@pytest.mark.django_db
def test_first_to_use_the_database():
    assert "testapp" in migrated


@pytest.mark.mute_signals()
def test_transactional(transactional_db):
    migrated.clear()


def test_flush_after_transactional_test_was_not_muted():
    assert "testapp" in migrated"""

MARKED_CLASS_TESTS = """\
import pytest
from django.db.models.signals import post_migrate
from django.test import TransactionTestCase

migrated = []


def on_migrate(sender, **kwargs):
    migrated.append(sender.label)


post_migrate.connect(on_migrate)


@pytest.mark.mute_signals()
class MarkedCase(TransactionTestCase):
    def test_in_a_marked_class(self):
        migrated.clear()


class LaterCase(TransactionTestCase):
    def test_flush_after_the_marked_class_was_not_muted(self):
        assert "testapp" in migrated
"""

MARKED_METHOD_TESTS = """\
import pytest
from django.db.models.signals import post_migrate
from django.test import TransactionTestCase

migrated = []


def on_migrate(sender, **kwargs):
    migrated.append(sender.label)


post_migrate.connect(on_migrate)


class MarkedMethodCase(TransactionTestCase):
    @pytest.mark.mute_signals()
    def test_a_marked_method(self):
        migrated.clear()


class LaterCase(TransactionTestCase):
    def test_flush_after_the_marked_method_was_not_muted(self):
        assert "testapp" in migrated
"""

AVAILABLE_APPS_TESTS = """\
import pytest
from django.db.models.signals import post_migrate
from django.test import TransactionTestCase

migrated = []


def on_migrate(sender, **kwargs):
    migrated.append(sender.label)


post_migrate.connect(on_migrate)


class Base(TransactionTestCase):
    available_apps = ["django.contrib.contenttypes", "django.contrib.auth", "tests.testapp"]
    __test__ = False

    def test_one(self):
        migrated.clear()

    def test_two(self):
        # Sent by _pre_setup before this test, for the available apps.
        assert "testapp" in migrated


@pytest.mark.mute_signals(post_migrate)
class TestMarkedClass(Base):
    __test__ = True


class TestMarkedMethods(Base):
    __test__ = True

    @pytest.mark.mute_signals(post_migrate)
    def test_one(self):
        super().test_one()

    @pytest.mark.mute_signals(post_migrate)
    def test_two(self):
        super().test_two()
"""


class MarkerAndTestDatabasesTests:
    def test_databases_are_set_up_and_flushed_unmuted(self, tmp_path: Path) -> None:
        (tmp_path / "test_database.py").write_text(DATABASE_TESTS)
        result = run_pytest(tmp_path, "test_database.py")
        assert "3 passed" in result.stdout, result.stdout

    def test_a_marked_transaction_test_case_is_flushed_unmuted(self, tmp_path: Path) -> None:
        (tmp_path / "test_marked_class.py").write_text(MARKED_CLASS_TESTS)
        result = run_pytest(tmp_path, "test_marked_class.py")
        assert "2 passed" in result.stdout, result.stdout

    def test_the_flush_after_a_marked_test_method_is_not_muted(self, tmp_path: Path) -> None:
        (tmp_path / "test_marked_method.py").write_text(MARKED_METHOD_TESTS)
        result = run_pytest(tmp_path, "test_marked_method.py")
        assert "2 passed" in result.stdout, result.stdout

    def test_post_migrate_before_a_marked_test_of_available_apps_is_not_muted(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "test_available_apps.py").write_text(AVAILABLE_APPS_TESTS)
        result = run_pytest(tmp_path, "test_available_apps.py")
        assert "4 passed" in result.stdout, result.stdout
