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

RECEIVERS = """\
import pytest
from django.dispatch import Signal

announced = Signal()
muted = pytest.mark.mute_signals


def notify(sender, **kwargs):
    pass


def passed_on(sender, **kwargs):
    return sender


class Hook:
    def __init__(self, sender):
        self.sender = sender

    def __call__(self, *args):
        return self.sender(*args)


class Handlers:
    @staticmethod
    def on_save(sender, **kwargs):
        pass
"""

MODULE_RECEIVER_TESTS = """\
import pytest

import signal_receivers


@pytest.mark.mute_signals(signal_receivers.notify)
def test_dotted_receiver():
    pass


def test_unmarked():
    pass
"""

UNSEEN_TESTS = """\
import pytest
from pytest import mark

import signal_receivers
from signal_receivers import muted, passed_on


@muted(signal_receivers.notify)
def test_marker_under_another_name():
    pass


@mark.mute_signals(signal_receivers.Handlers.on_save)
def test_static_method():
    pass


@pytest.mark.mute_signals(passed_on)
def test_receiver_returning_the_test():
    pass


@pytest.mark.mute_signals(signal_receivers.Hook)
def test_callable_class():
    pass


class TestMethods:
    @staticmethod
    def on_delete(sender, **kwargs):
        pass

    @pytest.mark.mute_signals(on_delete)
    def test_method(self):
        pass


def test_unmarked():
    pass
"""

CORRECT_TESTS = """\
import pytest
from django.db import models
from django.db.models.signals import post_save

import signal_receivers
from signal_receivers import Hook
from tests.testapp.models import Tag

signals = [post_save, signal_receivers.announced]


@pytest.mark.mute_signals(post_save)
def test_signal():
    pass


@pytest.mark.mute_signals(models.signals.post_save)
def test_dotted_signal():
    pass


@pytest.mark.mute_signals(signal_receivers.announced)
def test_signal_of_a_module():
    pass


@pytest.mark.mute_signals("django.db.models.signals.post_save")
def test_path():
    pass


@pytest.mark.mute_signals(*signals)
def test_unpacked():
    pass


@pytest.mark.mute_signals(post_save, sender=Tag)
def test_sender():
    pass


@pytest.mark.mute_signals(receivers=signal_receivers.notify)
def test_receivers():
    pass


@pytest.mark.mute_signals(post_save, sender=Hook)
def test_callable_class_sender():
    pass


@pytest.mark.parametrize(
    "value", [1, pytest.param(2, marks=pytest.mark.mute_signals(post_save))]
)
def test_parameter_set(value):
    pass


class TestSignals:
    signal = post_save

    @pytest.mark.mute_signals(signal)
    def test_class_attribute(self):
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
            "of the test it decorates (test_model_sender, TestMethods.test_method, CaseTests): "
            "pytest applies a marker called with a single class or function to that class or "
            "function, and the test was not collected. Pass it by keyword: "
            "@pytest.mark.mute_signals(sender=Tag), with any signals to mute before it, as in "
            "@pytest.mark.mute_signals(post_save, sender=Tag)."
        ) in output
        assert (
            "@pytest.mark.mute_signals(on_save) marked the function test_misapplied.on_save "
            "instead of the test it decorates (test_receiver): pytest applies a marker called with a single "
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

    def test_receiver_given_with_its_module_fails_collection(self, tmp_path: Path) -> None:
        # notify(test_dotted_receiver) is None, and the function is not in the
        # module, nor is anything else marked there.
        (tmp_path / "signal_receivers.py").write_text(RECEIVERS)
        (tmp_path / "test_module_receiver.py").write_text(MODULE_RECEIVER_TESTS)
        result = run_pytest(tmp_path, "test_module_receiver.py")
        output = " ".join(result.stdout.split())
        assert "ERROR collecting test_module_receiver.py" in output, result.stdout
        assert (
            "@pytest.mark.mute_signals(signal_receivers.notify) marked the function "
            "signal_receivers.notify instead of the test it decorates (test_dotted_receiver): "
            "pytest applies a marker called with a single class or function to that class or "
            "function, and the test was not collected. Pass it by keyword: "
            "@pytest.mark.mute_signals(receivers=signal_receivers.notify), with any signals "
            "to mute before it, as in "
            "@pytest.mark.mute_signals(post_save, receivers=signal_receivers.notify)."
        ) in output

    def test_what_the_module_does_not_show_fails_collection(self, tmp_path: Path) -> None:
        # Each test is lost, or runs unmuted: a receiver given to the marker
        # imported under another name, a static method given through its class, a receiver that returns what it is given (the test, unmarked), a
        # class whose instances are callable (no test pytest collects), a static
        # method of the test class.
        (tmp_path / "signal_receivers.py").write_text(RECEIVERS)
        (tmp_path / "test_unseen.py").write_text(UNSEEN_TESTS)
        # (Not collecting the callable left in place of a test, pytest warns.)
        warning = "default::pytest.PytestCollectionWarning"
        result = run_pytest(tmp_path, "test_unseen.py", "-W", warning)
        output = " ".join(result.stdout.split())
        assert "ERROR collecting test_unseen.py" in output, result.stdout
        assert (
            "@pytest.mark.mute_signals(signal_receivers.Handlers.on_save) marked the function "
            "signal_receivers.Handlers.on_save instead of the test it decorates "
            "(test_static_method)"
        ) in output
        assert (
            "@pytest.mark.mute_signals(passed_on) marked the function "
            "signal_receivers.passed_on instead of the test it decorates "
            "(test_receiver_returning_the_test)"
        ) in output
        assert (
            "@pytest.mark.mute_signals(signal_receivers.Hook) marked the class "
            "signal_receivers.Hook instead of the test it decorates (test_callable_class): "
        ) in output
        assert "Pass it by keyword: @pytest.mark.mute_signals(sender=signal_receivers.Hook)" in (
            output
        )
        assert (
            "@pytest.mark.mute_signals(on_delete) marked the function "
            "test_unseen.TestMethods.on_delete instead of the test it decorates "
            "(TestMethods.test_method)"
        ) in output
        assert (
            "@pytest.mark.mute_signals(signal_receivers.notify) marked the function "
            "signal_receivers.notify instead of the test it decorates "
            "(test_marker_under_another_name)"
        ) in output
        assert output.count("instead of the test it decorates") == 5

    def test_signals_strings_and_keywords_are_no_mistake(self, tmp_path: Path) -> None:
        (tmp_path / "signal_receivers.py").write_text(RECEIVERS)
        (tmp_path / "test_correct.py").write_text(CORRECT_TESTS)
        result = run_pytest(tmp_path, "test_correct.py")
        assert "11 passed in" in result.stdout, result.stdout
