from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.registryapp.cleanup import disconnect_test_signals

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def test_signals_disconnected() -> Iterator[None]:
    """After the test, no receiver stays on the signals that test modules define."""
    yield
    disconnect_test_signals()
