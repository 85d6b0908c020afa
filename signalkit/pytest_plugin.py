"""pytest plugin (entry point ``pytest11``): the ``mute_signals`` marker and the
``signal_capture`` fixture.

pytest imports this module before pytest-django configures Django, so it
imports nothing of Django at module level; :mod:`signalkit.testing` is imported
when a test uses the marker or the fixture.
"""

from __future__ import annotations

import unittest
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

from signalkit.pytest_misapplied import misapplied_markers

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    from signalkit.testing import Capture

# The mutes that a unittest class's own markers (and its module's) started for
# the whole class, on its collector node.
_class_muters = pytest.StashKey[list[Any]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mute_signals(*signals, sender=None, receivers=None, scope='context'): "
        "mute signals for the test and its fixtures (signalkit.testing.mute_signals).",
    )


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if isinstance(collector, pytest.Module) and report.passed:
        problems = misapplied_markers(collector)
        if problems:
            report.outcome = "failed"
            report.longrepr = "\n\n".join(problems)
            report.result = []
    return report


@pytest.fixture(autouse=True, scope="class")
def _signalkit_mute_signals_class(request: pytest.FixtureRequest) -> Iterator[None]:
    # A unittest TestCase runs setUpClass (and Django's setUpTestData, where
    # factories build the class's data) in a class-scoped fixture, before any
    # function-scoped one: the markers of the class and module are applied
    # around it, as the mute_signals class decorator does.
    cls = request.cls
    markers = [] if cls is None else list(request.node.iter_markers("mute_signals"))
    if not markers or not issubclass(cls, unittest.TestCase):
        yield
        return
    if "_django_setup_unittest" in request.fixturenames:
        # pytest-django's: it creates the test databases, whose migrations
        # must run unmuted, and opens database access for setUpClass.
        request.getfixturevalue("_django_setup_unittest")
    from signalkit.testing import mute_signals
    from signalkit.testing.flush import unmuted_flushes

    muters = [mute_signals(*marker.args, **marker.kwargs) for marker in markers]
    request.node.stash[_class_muters] = muters
    with ExitStack() as stack:
        for muter in muters:
            stack.enter_context(muter)
        stack.enter_context(unmuted_flushes(cls, [(muter.mute, muter.scope) for muter in muters]))
        yield
    del request.node.stash[_class_muters]


@pytest.fixture(autouse=True)
def _signalkit_mute_signals(request: pytest.FixtureRequest) -> Iterator[None]:
    node = request.node
    marked = list(node.iter_markers_with_node("mute_signals"))
    if not marked:
        yield
        return
    if _uses_database(request):
        # pytest-django's: it creates the test databases on first use and, after
        # a transactional test, flushes them and sends post_migrate so that
        # receivers seed them again for the next tests. Neither is part of the
        # test: set up first, it is torn down after the mutes have ended.
        request.getfixturevalue("_django_db_helper")
    from signalkit.testing import mute_signals
    from signalkit.testing.mute import isolated_context

    # Those of a unittest class and its module are in force for the whole class.
    parent = node.getparent(pytest.Class)
    started = [] if parent is None else parent.stash.get(_class_muters, [])
    muters = [
        mute_signals(*marker.args, **marker.kwargs)
        for owner, marker in marked
        if not started or owner is node
    ]
    # A unittest IsolatedAsyncioTestCase runs its test in a context of its own,
    # copied when the test case was created (before this fixture and perhaps
    # before the class's): the mutes are entered there too.
    context = isolated_context(request.instance)
    with ExitStack() as stack:
        for muter in muters:
            stack.enter_context(muter)
        if muters and isinstance(request.instance, unittest.TestCase):
            # A unittest TransactionTestCase flushes after its test (with
            # available_apps, sends post_migrate before it), inside this
            # fixture: outside the test's own mutes (those of its class are
            # left by the class's fixture).
            from signalkit.testing.flush import unmuted_flushes

            mutes = [(muter.mute, muter.scope) for muter in muters]
            stack.enter_context(unmuted_flushes(type(request.instance), mutes))
        if context is not None:
            from signalkit import gate

            present = context.run(gate.active_mutes)
            for muter in [*started, *muters]:
                if muter.scope == "context" and not any(m is muter.mute for m in present):
                    context.run(muter.__enter__)
                    stack.callback(context.run, muter.__exit__, None, None, None)
        yield


def _uses_database(request: pytest.FixtureRequest) -> bool:
    """Whether pytest-django gives the test database access (by a fixture, its
    ``django_db`` marker or the live server)."""
    names = request.fixturenames
    if "_django_db_helper" in names or "live_server" in names:
        return True
    marked = request.node.get_closest_marker("django_db") is not None
    return marked and request.config.pluginmanager.has_plugin("django")


@pytest.fixture
def signal_capture() -> Iterator[Capture]:
    """A :func:`~signalkit.testing.capture_signals` of every signal for the test."""
    from signalkit.testing import capture_signals

    with capture_signals() as capture:
        yield capture
