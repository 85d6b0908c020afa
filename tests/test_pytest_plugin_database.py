from __future__ import annotations

import os
import subprocess
import sys
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


def run_pytest(tmp_path: Path, test_file: str) -> subprocess.CompletedProcess[str]:
    """Run pytest on ``tmp_path / test_file`` in a process of its own, with test
    databases of its own."""
    suffix = os.environ.get("SIGNALKIT_TEST_DB_SUFFIX", os.environ.get("TOX_ENV_NAME", ""))
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "SIGNALKIT_TEST_DB_SUFFIX": f"{suffix}_plugin",
    }
    command = ["-q", "-p", "no:cacheprovider", "--ds", "tests.settings", "-W", "error"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *command, str(tmp_path / test_file)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


class MarkerAndTestDatabasesTests:
    def test_databases_are_set_up_and_flushed_unmuted(self, tmp_path: Path) -> None:
        (tmp_path / "test_database.py").write_text(DATABASE_TESTS)
        result = run_pytest(tmp_path, "test_database.py")
        assert "3 passed" in result.stdout, result.stdout

    def test_a_marked_transaction_test_case_is_flushed_unmuted(self, tmp_path: Path) -> None:
        (tmp_path / "test_marked_class.py").write_text(MARKED_CLASS_TESTS)
        result = run_pytest(tmp_path, "test_marked_class.py")
        assert "2 passed" in result.stdout, result.stdout
