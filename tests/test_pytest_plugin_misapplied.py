from __future__ import annotations

from typing import TYPE_CHECKING

from tests.test_pytest_plugin import run_pytest

if TYPE_CHECKING:
    from pathlib import Path

MISAPPLIED_TESTS = """\
import unittest

import pytest
from django.conf import settings

from tests.testapp.models import Tag


def on_save(sender, **kwargs):
    pass


class Gateway:
    def __init__(self, name):
        self.name = name


@pytest.mark.mute_signals(Tag)
def test_model_sender():
    pass


@pytest.mark.mute_signals(on_save)
def test_receiver():
    pass


@pytest.mark.mute_signals(Gateway)
def test_plain_sender():
    pass


class TestMethods:
    @pytest.mark.mute_signals(Tag)
    def test_method(self):
        pass


@pytest.mark.mute_signals(Tag)
class CaseTests(unittest.TestCase):
    def test_case(self):
        pass


def test_unmarked():
    pass
"""

KEYWORD_TESTS = """\
import pytest
from django.db.models.signals import post_save

from tests.testapp.models import Tag
from test_misapplied import on_save


@pytest.mark.mute_signals(sender=Tag)
def test_sender():
    pass


@pytest.mark.mute_signals(post_save, receivers=on_save)
def test_receiver():
    pass


@pytest.mark.mute_signals
class TestEverySignal:
    def test_bare(self):
        pass
"""

BARE_HELPERS = """\
import pytest


@pytest.mark.mute_signals
class MutedBase:
    pass


class TestInherited(MutedBase):
    def test_inherited(self):
        pass


@pytest.mark.mute_signals
def test_bare():
    pass
"""

MARKED_METHODS = """\
import pytest

test_values = [1, 2]


class TestReports:
    @pytest.mark.mute_signals()
    def test_muted(self):
        pass


@pytest.mark.parametrize("value", test_values)
def test_value(value):
    pass
"""


class MisappliedMarkerTests:
    def test_single_class_or_function_fails_collection_naming_the_keyword(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "test_misapplied.py").write_text(MISAPPLIED_TESTS)
        (tmp_path / "test_keywords.py").write_text(KEYWORD_TESTS)
        result = run_pytest(tmp_path, "", "--continue-on-collection-errors")
        output = " ".join(result.stdout.split())
        # The module that made the mistakes fails to collect; the next one,
        # which imports the same model and function, is not blamed.
        assert "3 passed, 1 error" in output, result.stdout
        assert "ERROR collecting test_misapplied.py" in output
        assert (
            "@pytest.mark.mute_signals(Tag) marked the class tests.testapp.models.Tag instead "
            "of the test it decorates (test_model_sender, CaseTests, TestMethods.test_method): "
            "pytest applies a marker called with a single class or function to that class or "
            "function, and the test was not collected. Pass it by keyword: "
            "@pytest.mark.mute_signals(sender=Tag), with any signals to mute before it, as in "
            "@pytest.mark.mute_signals(post_save, sender=Tag)."
        ) in output
        assert (
            "@pytest.mark.mute_signals(on_save) marked the function test_misapplied.on_save "
            "instead of the test it decorates: pytest applies a marker called with a single "
            "class or function to that class or function, and the test was not collected. "
            "Pass it by keyword: @pytest.mark.mute_signals(receivers=on_save)"
        ) in output
        assert (
            "@pytest.mark.mute_signals(Gateway) marked the class test_misapplied.Gateway "
            "instead of the test it decorates (test_plain_sender)"
        ) in output

    def test_bare_marker_on_a_base_class_or_test_is_no_mistake(self, tmp_path: Path) -> None:
        (tmp_path / "test_bare.py").write_text(BARE_HELPERS)
        result = run_pytest(tmp_path, "test_bare.py")
        assert "2 passed in" in result.stdout, result.stdout

    def test_marked_test_method_beside_a_test_named_value_is_no_mistake(
        self, tmp_path: Path
    ) -> None:
        # A test class's method is matched by its own name, not "TestReports.test_muted".
        (tmp_path / "test_methods.py").write_text(MARKED_METHODS)
        result = run_pytest(tmp_path, "test_methods.py")
        assert "3 passed in" in result.stdout, result.stdout
