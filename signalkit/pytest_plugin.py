"""pytest plugin (entry point ``pytest11``): the ``mute_signals`` marker and the
``signal_capture`` fixture.

pytest imports this module before pytest-django configures Django, so it
imports nothing of Django at module level; :mod:`signalkit.testing` is imported
when a test uses the marker or the fixture.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from signalkit.testing import Capture


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mute_signals(*signals, sender=None, receivers=None, scope='context'): "
        "mute signals for the test and its fixtures (signalkit.testing.mute_signals).",
    )


@pytest.fixture(autouse=True)
def _signalkit_mute_signals(request: pytest.FixtureRequest) -> Iterator[None]:
    markers = list(request.node.iter_markers("mute_signals"))
    if not markers:
        yield
        return
    from signalkit.testing import mute_signals
    from signalkit.testing.mute import isolated_context

    muters = [mute_signals(*marker.args, **marker.kwargs) for marker in markers]
    # A unittest IsolatedAsyncioTestCase runs its test in a context of its own,
    # copied before this fixture ran: the mutes are entered there too.
    context = isolated_context(request.instance)
    with ExitStack() as stack:
        for muter in muters:
            stack.enter_context(muter)
            if context is not None and muter.scope == "context":
                context.run(muter.__enter__)
                stack.callback(context.run, muter.__exit__, None, None, None)
        yield


@pytest.fixture
def signal_capture() -> Iterator[Capture]:
    """A :func:`~signalkit.testing.capture_signals` of every signal for the test."""
    from signalkit.testing import capture_signals

    with capture_signals() as capture:
        yield capture
