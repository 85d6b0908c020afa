"""What a capture's assertions are given: a signal the capture records, and a
number of sends that is one."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal

from signalkit.testing import capture_signals
from tests.testapp.models import Tag

watched = Signal()
unwatched = Signal()


class UnrecordedSignalTests:
    def test_every_assertion_on_a_signal_the_capture_does_not_record_is_refused(self) -> None:
        with capture_signals(watched) as capture:
            watched.send("me")
            unwatched.send("me")
        message = (
            f"This capture records only {__name__}.watched, not {__name__}.unwatched: it "
            f"cannot tell whether {__name__}.unwatched was sent. Pass {__name__}.unwatched "
            "to capture_signals() too, or no signal at all to record every signal."
        )
        for check in (
            lambda: capture.assert_not_sent(unwatched),
            lambda: capture.assert_not_sent(unwatched, sender="me"),
            lambda: capture.assert_sent(unwatched),
            lambda: capture.assert_sent(signal=unwatched, count=0),
            lambda: capture.matching(unwatched),
        ):
            with pytest.raises(ValueError, match="This capture records only") as info:
                check()
            assert str(info.value) == message

    def test_a_signal_given_by_its_path_is_checked_too(self) -> None:
        with capture_signals(pre_save, watched) as capture:
            post_save.send(Tag, instance=None, created=True)
        with pytest.raises(
            ValueError, match=r"records only django\.db\.models\.signals\.pre_save, "
        ):
            capture.assert_not_sent("django.db.models.signals.post_save")


class CountTests:
    @pytest.mark.parametrize("count", ["1", 1.0, True, [1]], ids=repr)
    def test_a_count_that_is_no_int_is_refused(self, count: Any) -> None:
        with capture_signals(watched) as capture:
            watched.send("me")
        with pytest.raises(TypeError) as info:
            capture.assert_sent(watched, count=count)
        assert str(info.value) == (
            f"count is the number of sends expected, an int, not {count!r}; to match an "
            "argument named count, pass it in a dict: assert_sent(signal, {'count': ...})."
        )

    def test_a_negative_count_is_refused(self) -> None:
        with capture_signals(watched) as capture:
            pass
        with pytest.raises(ValueError, match="0 or more, not -1") as info:
            capture.assert_sent(watched, count=-1)
        assert str(info.value) == "count is the number of sends expected, 0 or more, not -1."
