from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import TYPE_CHECKING, Any

import pytest
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import Signal

from signalkit import gate
from signalkit.dispatch import Signal as SignalkitSignal
from signalkit.testing import capture_signals, mute_signals
from tests.testapp.models import Article, Author, Tag
from tests.testingapp.models import Entry

if TYPE_CHECKING:
    from collections.abc import Iterator

ORIGINALS = {
    (cls, name): cls.__dict__.get(name)
    for cls in (Signal, SignalkitSignal)
    for name in ("send", "send_robust", "asend", "asend_robust", "has_listeners")
}

plain = Signal()
documented = SignalkitSignal("documented", args=["value"])
strict = SignalkitSignal("strict", args=["value"], strict=True)
received: list[Any] = []


def on_plain(sender: Any, **kwargs: Any) -> str:
    received.append({name: value for name, value in kwargs.items() if name != "signal"})
    return "ok"


@pytest.fixture(autouse=True)
def connected() -> Iterator[None]:
    received.clear()
    plain.connect(on_plain)
    yield
    plain.disconnect(on_plain)
    assert {key: key[0].__dict__.get(key[1]) for key in ORIGINALS} == ORIGINALS


class CaptureSignalsTests:
    def test_records_signal_sender_and_kwargs(self) -> None:
        with capture_signals() as capture:
            plain.send("me", value=1)
        [call] = capture.calls
        assert (call.signal, call.sender, call.kwargs) == (plain, "me", {"value": 1})
        assert received == [{"value": 1}]

    def test_signal_named_by_its_short_name(self) -> None:
        with capture_signals("documented") as capture:
            documented.send("me", value=3)
            plain.send("me", value=4)
        assert [(call.signal, call.kwargs) for call in capture.calls] == [
            (documented, {"value": 3})
        ]

    def test_records_sends_of_signals_without_receivers(self) -> None:
        lonely = Signal()
        with capture_signals(lonely) as capture:
            lonely.send(None, value=2)
        assert [call.kwargs for call in capture.calls] == [{"value": 2}]

    def test_records_sends_of_muted_signals(self) -> None:
        with capture_signals() as capture, mute_signals(plain):
            plain.send(None, value=3)
        assert received == []
        capture.assert_sent(plain, value=3)

    def test_only_the_given_signals(self) -> None:
        with capture_signals("django.db.models.signals.pre_save") as capture:
            plain.send(None)
            pre_save.send(Tag, instance=None)
        assert [call.signal for call in capture.calls] == [pre_save]

    def test_each_send_method_is_recorded_once(self) -> None:
        async def asend() -> None:
            await plain.asend(None)
            await plain.asend_robust(None)

        with capture_signals() as capture:
            plain.send(None)
            plain.send_robust(None)
            asyncio.run(asend())
        assert [call.method for call in capture.calls] == [
            "send",
            "send_robust",
            "asend",
            "asend_robust",
        ]

    @pytest.mark.parametrize("signal", [documented, strict], ids=["documented", "strict"])
    def test_signalkit_signals_are_recorded_once_per_send(self, signal: SignalkitSignal) -> None:
        async def asend() -> None:
            await signal.asend(None, value=3)
            await signal.asend_robust(None, value=4)

        with capture_signals() as capture:
            signal.send(None, value=1)
            signal.send_robust(None, value=2)
            asyncio.run(asend())
        assert [(call.method, call.kwargs["value"]) for call in capture.calls] == [
            ("send", 1),
            ("send_robust", 2),
            ("asend", 3),
            ("asend_robust", 4),
        ]

    def test_other_threads_are_not_recorded(self) -> None:
        with capture_signals() as capture:
            thread = threading.Thread(target=plain.send, args=("thread",))
            thread.start()
            thread.join()
            plain.send("main")
        assert [call.sender for call in capture.calls] == ["main"]

    def test_nested_captures_both_record(self) -> None:
        with capture_signals() as outer:
            plain.send("first")
            with capture_signals(plain) as inner:
                plain.send("second")
        assert [call.sender for call in outer.calls] == ["first", "second"]
        assert [call.sender for call in inner.calls] == ["second"]

    def test_mute_outliving_the_capture_keeps_working(self) -> None:
        muted = mute_signals(plain)
        with capture_signals():
            muted.__enter__()
        plain.send(None)
        muted.__exit__(None, None, None)
        assert Signal.__dict__["send"] is ORIGINALS[(Signal, "send")]
        plain.send(None)
        assert len(received) == 1
        assert gate.active_mutes() == ()

    def test_mute_ending_inside_the_capture(self) -> None:
        muted = mute_signals(plain)
        muted.__enter__()
        with capture_signals() as capture:
            plain.send(None)
            muted.__exit__(None, None, None)
            plain.send(None)
        assert Signal.__dict__["send"] is ORIGINALS[(Signal, "send")]
        assert len(capture.calls) == 2
        assert len(received) == 1

    def test_capture_ended_in_another_context(self) -> None:
        async def main() -> None:
            blocks = capture_signals()
            capture = await asyncio.create_task(enter(blocks))
            plain.send("inside")
            blocks.__exit__(None, None, None)
            plain.send("after")
            assert [call.sender for call in capture.calls] == []

        async def enter(blocks: Any) -> Any:
            return blocks.__enter__()

        asyncio.run(main())
        assert len(received) == 2


class AssertSentTests:
    def test_passes_and_returns_the_matching_calls(self) -> None:
        author = Author(name="a")
        with capture_signals() as capture:
            post_save.send(Author, instance=author, created=True)
        [call] = capture.assert_sent(post_save, sender=Author, instance=author, created=True)
        assert call.sender is Author
        capture.assert_sent("django.db.models.signals.post_save", sender="testapp.Author", count=1)

    def test_a_sender_label_matches_the_model_name_in_any_case(self) -> None:
        with capture_signals() as capture:
            post_save.send(Author, instance=Author(name="a"), created=True)
        capture.assert_sent(post_save, sender="testapp.author", count=1)
        capture.assert_not_sent(post_save, sender="testapp.tag")
        with pytest.raises(ValueError, match="has no model 'Autor'"):
            capture.assert_sent(post_save, sender="testapp.Autor")

    def test_failure_lists_what_was_sent(self) -> None:
        with capture_signals() as capture:
            post_save.send(Tag, instance=None, created=False)
        with pytest.raises(AssertionError) as info:
            capture.assert_sent(post_save, sender=Tag, created=True)
        assert str(info.value) == (
            "Expected django.db.models.signals.post_save(sender=testapp.Tag, created=True) "
            "to be sent at least once, it was sent 0 time(s).\n"
            "Sent:\n"
            "  1. django.db.models.signals.post_save.send("
            "sender=testapp.Tag, instance=None, created=False)"
        )

    def test_failure_names_a_plain_django_signal_by_its_path(self) -> None:
        with capture_signals() as capture:
            plain.send("me", value=1)
        with pytest.raises(AssertionError) as info:
            capture.assert_sent(plain, value=2)
        assert str(info.value) == (
            f"Expected {__name__}.plain(value=2) to be sent at least once, "
            "it was sent 0 time(s).\n"
            "Sent:\n"
            f"  1. {__name__}.plain.send(sender='me', value=1)"
        )

    def test_failure_in_a_long_capture_lists_the_sends_of_the_signal(self) -> None:
        with capture_signals() as capture:
            for _ in range(30):
                pre_save.send(Tag, instance=None)
            plain.send("me")
        with pytest.raises(AssertionError) as info:
            capture.assert_sent(plain, sender="you")
        assert str(info.value).splitlines()[1:] == [
            "Sent:",
            f"  31. {__name__}.plain.send(sender='me')",
            "Also sent, not listed: 30 send(s) of other signals "
            "(django.db.models.signals.pre_save: 30).",
        ]

    def test_failure_lists_arguments_whose_repr_fails(self) -> None:
        # A QuerySet's repr() runs a query: not allowed in this test. The
        # assertion still fails with what was sent.
        tags = Tag.objects.filter(name="x")
        with capture_signals() as capture:
            plain.send(Tag, tags=tags)
        with pytest.raises(AssertionError) as info:
            capture.assert_sent(plain, sender=Tag, count=2)
        with pytest.raises(AssertionError) as info_not_sent:
            capture.assert_not_sent(plain, tags=tags)
        shown = "<QuerySet object; its repr() raised RuntimeError>"
        assert str(info.value).splitlines()[-1] == (
            f"  1. {__name__}.plain.send(sender=testapp.Tag, tags={shown})"
        )
        assert str(info_not_sent.value).startswith(f"Expected {__name__}.plain(tags={shown}) not")

    def test_count(self) -> None:
        with capture_signals() as capture:
            plain.send(None)
            plain.send(None)
        capture.assert_sent(plain, count=2)
        with pytest.raises(AssertionError, match=r"to be sent 1 time\(s\), it was sent 2"):
            capture.assert_sent(plain, count=1)

    def test_a_signal_argument_named_count_is_matched_through_a_dict(self) -> None:
        with capture_signals() as capture:
            plain.send("me", count=3)
            plain.send("me", count=4)
        [call] = capture.assert_sent(plain, {"count": 3}, count=1, sender="me")
        assert call.kwargs == {"count": 3}
        capture.assert_not_sent(plain, {"count": 5})
        assert capture.matching(plain, count=4)[0].kwargs == {"count": 4}
        with pytest.raises(AssertionError, match="it was sent 0 time"):
            capture.assert_sent(plain, {"count": 5})

    def test_count_failure_for_a_signal_with_a_count_argument_says_how_to_match_it(self) -> None:
        with capture_signals() as capture:
            plain.send("me", count=3)
        with pytest.raises(AssertionError) as info:
            capture.assert_sent(plain, count=3)
        assert str(info.value).endswith(
            "\ncount=3 is the number of sends expected; to match the signal's own 'count' "
            "argument, pass it in a dict: assert_sent(signal, {'count': 3})."
        )

    def test_arguments_dict_is_checked(self) -> None:
        with capture_signals() as capture:
            plain.send("me", value=1)
        with pytest.raises(TypeError, match="'value' given both in the dict and as a keyword"):
            capture.assert_sent(plain, {"value": 1}, value=1)
        with pytest.raises(TypeError, match="Pass the sender as sender="):
            capture.assert_sent(plain, {"sender": "me"})
        with pytest.raises(TypeError, match="The arguments to match are a dict, not 'me'"):
            capture.assert_not_sent(plain, "me")  # type: ignore[arg-type]

    def test_arguments_whose_comparison_raises(self) -> None:
        # As a numpy array's: == gives an array, whose truth value raises.
        class Ambiguous:
            def __eq__(self, other: object) -> bool:
                raise ValueError("The truth value of an array is ambiguous.")

            __hash__ = object.__hash__

        data = Ambiguous()
        with capture_signals() as capture:
            plain.send("me", data=data)
        [call] = capture.assert_sent(plain, data=data)
        assert call.kwargs["data"] is data
        capture.assert_not_sent(plain, data=Ambiguous())
        with pytest.raises(AssertionError, match="it was sent 0 time"):
            capture.assert_sent(plain, data=Ambiguous())

    def test_nothing_sent(self) -> None:
        with capture_signals() as capture:
            pass
        with pytest.raises(AssertionError, match="Nothing was sent"):
            capture.assert_sent(plain)

    def test_the_signal_given_by_name(self) -> None:
        with capture_signals() as capture:
            plain.send("me", value=1)
        capture.assert_sent(signal=plain, sender="me", value=1)
        capture.assert_not_sent(signal=plain, value=2)
        with pytest.raises(TypeError, match=r"assert_sent\(\) needs the signal"):
            capture.assert_sent(value=1)


class AssertNotSentTests:
    def test_passes_when_nothing_matches(self) -> None:
        with capture_signals() as capture:
            plain.send("other", value=1)
        capture.assert_not_sent(plain, sender="me")
        capture.assert_not_sent(plain, value=2)
        capture.assert_not_sent(pre_save)

    def test_failure_lists_what_was_sent(self) -> None:
        with capture_signals() as capture:
            documented.send("me", value=1)
        with pytest.raises(AssertionError) as info:
            capture.assert_not_sent(documented, sender="me")
        assert str(info.value) == (
            f"Expected {__name__}.documented(sender='me') not to be sent, "
            "it was sent 1 time(s).\n"
            "Sent:\n"
            f"  1. {__name__}.documented.send(sender='me', value=1)"
        )


class EndedCaptureTests:
    """A capture ends with its block, also for the contexts copied inside it."""

    def test_a_context_copied_in_the_block_is_not_recorded_after_it(self) -> None:
        with capture_signals(plain) as ended:
            copied = contextvars.copy_context()
        # Another capture is active meanwhile (which keeps the send methods wrapped).
        with capture_signals(documented) as other:
            copied.run(plain.send, "copied")
        assert (ended.calls, other.calls) == ([], [])
        assert received == [{}]

    def test_not_recorded_while_another_thread_captures(self) -> None:
        entered, done = threading.Event(), threading.Event()

        def hold() -> None:
            with capture_signals(documented):
                entered.set()
                done.wait()

        async def main(capture_calls: list[Any]) -> None:
            go = asyncio.Event()

            async def background() -> None:
                await go.wait()
                plain.send("task")

            with capture_signals(plain) as capture:
                task = asyncio.create_task(background())
                await asyncio.sleep(0)
            go.set()
            await task
            capture_calls.extend(capture.calls)

        thread = threading.Thread(target=hold)
        thread.start()
        entered.wait()
        calls: list[Any] = []
        try:
            asyncio.run(main(calls))
        finally:
            done.set()
            thread.join()
        assert calls == []


def on_model_signal(sender: Any, **kwargs: Any) -> None:
    received.append(kwargs.get("action", "deleted"))


@pytest.fixture
def model_receivers() -> Iterator[None]:
    post_delete.connect(on_model_signal, sender=Entry)
    m2m_changed.connect(on_model_signal, sender=Article.tags.through)
    yield
    post_delete.disconnect(on_model_signal, sender=Entry)
    m2m_changed.disconnect(on_model_signal, sender=Article.tags.through)


@pytest.mark.django_db
@pytest.mark.usefixtures("model_receivers")
class SendsDjangoSkipsWithoutListenersTests:
    """Django sends the delete signals and m2m_changed's pre_add and post_add
    only when ``has_listeners()``: a mute of every receiver must not hide from a
    capture the sends the code makes without it."""

    def test_a_muted_delete_is_recorded(self) -> None:
        entry = Entry.objects.create(number=1)
        with capture_signals(post_delete) as capture, mute_signals(post_delete):
            entry.delete()
        capture.assert_sent(post_delete, sender=Entry, count=1, instance=entry)
        assert received == []

    def test_a_muted_m2m_add_is_recorded(self) -> None:
        article, tag = Article.objects.create(title="a"), Tag.objects.create(name="t")
        with capture_signals(m2m_changed) as capture, mute_signals(m2m_changed):
            article.tags.add(tag)
        assert [call.kwargs["action"] for call in capture.calls] == ["pre_add", "post_add"]
        assert received == []

    def test_a_capture_alone_or_of_other_signals_changes_nothing(self) -> None:
        with capture_signals():
            assert post_delete.has_listeners(Entry)
            assert not post_delete.has_listeners(Tag)
        with capture_signals(plain), mute_signals(post_delete):
            assert not post_delete.has_listeners(Entry)
        with mute_signals(post_delete):
            assert not post_delete.has_listeners(Entry)

    def test_other_threads_keep_their_mutes(self) -> None:
        seen: list[bool] = []

        def muted() -> None:
            with mute_signals(post_delete):
                seen.append(post_delete.has_listeners(Entry))

        with capture_signals(post_delete), mute_signals(post_delete):
            assert post_delete.has_listeners(Entry)
            thread = threading.Thread(target=muted)
            thread.start()
            thread.join()
        assert seen == [False]

    def test_disabled_receivers_stay_off(self, settings: Any) -> None:
        settings.SIGNALKIT = {"RECEIVERS": {f"{__name__}.on_model_signal": False}}
        with capture_signals(post_delete) as capture, mute_signals(post_delete):
            assert not post_delete.has_listeners(Entry)
            Entry.objects.create(number=2).delete()
        capture.assert_not_sent(post_delete)
