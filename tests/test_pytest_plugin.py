from __future__ import annotations

import os
import subprocess
import sys
import unittest
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.db.models.signals import post_save
from django.dispatch import Signal
from django.test import TestCase

from signalkit import gate
from tests.factories import TagFactory
from tests.testapp.models import Tag

if TYPE_CHECKING:
    from collections.abc import Iterator

    from signalkit.testing import Capture

custom = Signal()
calls: list[str] = []


_RUNNER_VARIABLES = ("CI", "BUILD_NUMBER", "PYTEST_ADDOPTS")


def run_pytest(tmp_path: Path, test_file: str, *options: str) -> subprocess.CompletedProcess[str]:
    """Run pytest (with ``options``) on ``tmp_path / test_file`` in a process of its
    own, with test databases of its own."""
    suffix = os.environ.get("SIGNALKIT_TEST_DB_SUFFIX", os.environ.get("TOX_ENV_NAME", ""))
    # Its output must not depend on where the suite runs: under CI (or
    # BUILD_NUMBER) pytest prints whole messages again in its short summary.
    kept = {k: v for k, v in os.environ.items() if k not in _RUNNER_VARIABLES}
    env = {
        **kept,
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "SIGNALKIT_TEST_DB_SUFFIX": f"{suffix}_plugin",
    }
    command = ["-q", "-p", "no:cacheprovider", "--ds", "tests.settings", "-W", "error"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *command, *options, str(tmp_path / test_file)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def on_custom(sender: Any, **kwargs: Any) -> None:
    calls.append("custom")


def on_save(sender: Any, **kwargs: Any) -> None:
    calls.append(f"save {sender.__name__}")


@pytest.fixture(autouse=True)
def connected() -> Iterator[None]:
    calls.clear()
    custom.connect(on_custom)
    post_save.connect(on_save, dispatch_uid="test_pytest_plugin.on_save")
    yield
    custom.disconnect(on_custom)
    post_save.disconnect(dispatch_uid="test_pytest_plugin.on_save")


@pytest.fixture
def tag() -> Tag:
    return TagFactory.create()


class PluginRegistrationTests:
    def test_entry_point(self) -> None:
        [entry] = [ep for ep in entry_points(group="pytest11") if ep.name == "signalkit"]
        assert entry.value == "signalkit.pytest_plugin"

    def test_loaded(self, request: pytest.FixtureRequest) -> None:
        assert request.config.pluginmanager.has_plugin("signalkit")

    def test_marker_registered(self, request: pytest.FixtureRequest) -> None:
        markers = request.config.getini("markers")
        assert any(line.startswith("mute_signals(") for line in markers)

    def test_import_touches_neither_settings_nor_models(self) -> None:
        env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
        code = (
            "import sys, signalkit.pytest_plugin\n"
            "loaded = [m for m in sys.modules if m == 'django.conf' or m.startswith('django.db')]\n"
            "assert not loaded, loaded\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr


class MuteSignalsMarkerTests:
    @pytest.mark.mute_signals(f"{__name__}.custom")
    def test_dotted_path(self) -> None:
        custom.send(None)
        post_save.send(Tag, instance=None)
        assert calls == ["save Tag"]

    @pytest.mark.mute_signals
    def test_every_signal(self) -> None:
        custom.send(None)
        post_save.send(Tag, instance=None)
        assert calls == []

    @pytest.mark.mute_signals(post_save, sender="testapp.Tag")
    @pytest.mark.django_db
    def test_covers_fixtures(self, tag: Tag) -> None:
        assert tag.pk is not None
        custom.send(None)
        assert calls == ["custom"]

    @pytest.mark.mute_signals(custom, scope="process")
    def test_process_scope(self) -> None:
        assert [mute.applies_to(custom, None) for mute in gate.active_mutes()] == [True]
        custom.send(None)
        assert calls == []

    def test_unmarked_test_mutes_nothing(self) -> None:
        assert gate.active_mutes() == ()
        custom.send(None)
        assert calls == ["custom"]


@pytest.mark.mute_signals(custom)
class MarkedClassTests:
    @pytest.mark.mute_signals(post_save)
    def test_class_and_method_markers_combine(self) -> None:
        custom.send(None)
        post_save.send(Tag, instance=None)
        assert calls == []


@pytest.mark.mute_signals(custom)
class MarkedIsolatedAsyncioTests(unittest.IsolatedAsyncioTestCase):
    # It runs its test in a context copied before the fixtures ran.
    def test_sync(self) -> None:
        custom.send(None)
        assert calls == []

    async def test_async(self) -> None:
        await custom.asend(None)
        assert calls == []


class SignalCaptureFixtureTests:
    @pytest.mark.django_db
    def test_captures_every_signal(self, signal_capture: Capture) -> None:
        tag = TagFactory.create()
        custom.send("me")
        signal_capture.assert_sent(post_save, sender=Tag, instance=tag, created=True)
        signal_capture.assert_sent(custom, sender="me", count=1)

    @pytest.mark.mute_signals(custom)
    def test_sees_muted_sends(self, signal_capture: Capture) -> None:
        custom.send("me")
        assert calls == []
        signal_capture.assert_sent(custom, sender="me")


set_up_calls: list[list[str]] = []


@pytest.mark.mute_signals(post_save)
class MarkedDjangoTestCaseTests(TestCase):
    # pytest runs setUpClass (so setUpTestData) in a class-scoped fixture, before
    # the function-scoped ones: the class's marker must be in force there too.
    @classmethod
    def setUpTestData(cls) -> None:
        calls.clear()
        post_save.connect(on_save, dispatch_uid="test_pytest_plugin.set_up")
        try:
            TagFactory.create()
        finally:
            post_save.disconnect(dispatch_uid="test_pytest_plugin.set_up")
        set_up_calls.append(list(calls))

    def test_set_up_test_data_was_muted(self) -> None:
        assert set_up_calls == [[]]
        TagFactory.create()
        assert calls == []

    @pytest.mark.mute_signals(custom)
    def test_method_marker_adds_to_the_class_marker(self) -> None:
        custom.send(None)
        post_save.send(Tag, instance=None)
        assert calls == []
        assert len(gate.active_mutes()) == 2


class MarkerOnParametrizedTestsTests:
    @pytest.mark.parametrize(
        "muted", [False, pytest.param(True, marks=pytest.mark.mute_signals(custom))]
    )
    def test_marker_given_to_one_parameter_set(self, muted: bool) -> None:
        custom.send(None)
        assert calls == ([] if muted else ["custom"])


class MarkerKeyCheckTests:
    def test_misspelt_receiver_key_fails_the_test(self, tmp_path: Path) -> None:
        (tmp_path / "test_marked.py").write_text(
            "import pytest\n\n\n"
            "@pytest.mark.mute_signals(receivers='tests.testapp.signals.remember_autor')\n"
            "def test_marked():\n"
            "    pass\n"
        )
        result = run_pytest(tmp_path, "test_marked.py")
        # (At its end: a module the test imports could give that key with name=.)
        assert "1 passed, 1 error" in result.stdout, result.stdout
        assert (
            "ValueError: mute_signals(receivers=...) has the receiver key "
            "'tests.testapp.signals.remember_autor', which names no receiver: the module "
            "'tests.testapp.signals' has no attribute 'remember_autor'. Did you mean "
            "'tests.testapp.signals.remember_author'?"
        ) in result.stdout


ISOLATED_CONFTEST = """\
import pytest

from signals_here import pinged


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    # pytest creates a unittest test case, and so the context an
    # IsolatedAsyncioTestCase runs its test in, as it collects the test: inside
    # this block, which ends before any test runs.
    from signalkit.testing import mute_signals

    with mute_signals(pinged):
        return (yield)
"""

ISOLATED_TESTS = """\
import unittest

import pytest
from django.db.models.signals import post_save

from signals_here import heard, other, pinged
from tests.testapp.models import Tag


class Cases(unittest.IsolatedAsyncioTestCase):
    @pytest.mark.mute_signals(other)
    def test_a_mute_that_ended_before_the_test_is_not_in_force(self):
        heard.clear()
        pinged.send("test")
        assert heard == ["test"]

    @pytest.mark.mute_signals(pinged)
    async def test_the_marker_is_in_force(self):
        heard.clear()
        await pinged.asend("test")
        assert heard == []


@pytest.mark.mute_signals(post_save, sender=[object])
def test_a_list_of_senders():
    pass


@pytest.mark.mute_signals(post_save, sender=Tag(name="news"))
def test_an_instance_as_the_sender_of_a_model_signal():
    pass
"""

SIGNALS_HERE = """\
from django.dispatch import Signal

pinged = Signal()
other = Signal()
heard = []
pinged.connect(lambda sender, **kwargs: heard.append(sender), weak=False)
"""


class MarkerInACopiedContextTests:
    def test_mutes_that_ended_are_not_in_force_and_senders_are_checked(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "conftest.py").write_text(ISOLATED_CONFTEST)
        (tmp_path / "signals_here.py").write_text(SIGNALS_HERE)
        (tmp_path / "test_isolated.py").write_text(ISOLATED_TESTS)
        result = run_pytest(tmp_path, "test_isolated.py")
        assert "2 passed, 2 errors" in result.stdout, result.stdout
        assert "TypeError: mute_signals(sender=...) takes one sender" in result.stdout
        assert (
            "TypeError: sender is an instance of testapp.Tag, but "
            "django.db.models.signals.post_save is sent with the model class as its sender"
        ) in result.stdout
