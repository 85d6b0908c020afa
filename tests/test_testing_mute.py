from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
import threading
import unittest
from typing import TYPE_CHECKING, Any
from urllib.request import urlopen

import pytest
from asgiref.sync import markcoroutinefunction
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth.hashers import get_hashers
from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import Signal
from django.test import (
    LiveServerTestCase,
    SimpleTestCase,
    TestCase,
    TransactionTestCase,
    override_settings,
)

import signalkit
from signalkit import gate
from signalkit.offload import compat
from signalkit.testing import MuteSignalsMixin, mute_signals
from tests.testapp.models import Author, Tag
from tests.testingapp.views import pinged

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator, Iterator
    from pathlib import Path

calls: list[str] = []


def on_save(sender: Any, **kwargs: Any) -> None:
    calls.append(f"save {sender.__name__}")


def on_delete(sender: Any, **kwargs: Any) -> None:
    calls.append(f"delete {sender.__name__}")


def on_custom(sender: Any, **kwargs: Any) -> None:
    calls.append("custom")


custom = Signal()


@pytest.fixture(autouse=True)
def receivers() -> Iterator[None]:
    calls.clear()
    post_save.connect(on_save, dispatch_uid="test_testing_mute.on_save")
    post_delete.connect(on_delete, dispatch_uid="test_testing_mute.on_delete")
    custom.connect(on_custom)
    yield
    post_save.disconnect(dispatch_uid="test_testing_mute.on_save")
    post_delete.disconnect(dispatch_uid="test_testing_mute.on_delete")
    custom.disconnect(on_custom)
    assert gate.active_mutes() == ()


def forget_hashers() -> None:
    """Empty Django's cache of the password hashers (read from the settings again)."""
    get_hashers.cache_clear()  # type: ignore[attr-defined]


def run_case(case: type[unittest.TestCase]) -> unittest.TestResult:
    """Run ``case`` as unittest would (class fixtures and cleanups included)."""
    suite = unittest.TestSuite([unittest.defaultTestLoader.loadTestsFromTestCase(case)])
    result = unittest.TestResult()
    suite.run(result)
    return result


class MuteSignalsBlockTests:
    def test_mutes_the_named_signal_only(self) -> None:
        with mute_signals(post_save):
            post_save.send(Tag, instance=None)
            custom.send(None)
        assert calls == ["custom"]

    def test_receivers_run_again_after_the_block(self) -> None:
        with mute_signals(post_save):
            post_save.send(Tag, instance=None)
        post_save.send(Tag, instance=None)
        assert calls == ["save Tag"]

    def test_dotted_path(self) -> None:
        with mute_signals("django.db.models.signals.post_save"):
            post_save.send(Tag, instance=None)
        assert calls == []

    def test_sender_by_class_and_by_label(self) -> None:
        with mute_signals(post_save, sender=Author):
            post_save.send(Author, instance=Author(name="unsaved"))
            post_save.send(Tag, instance=None)
        with mute_signals(post_save, sender="testapp.Tag"):
            post_save.send(Author, instance=Author(name="unsaved"))
            post_save.send(Tag, instance=None)
        assert calls == ["save Tag", "save Author"]

    def test_receivers_by_callable_and_by_key(self) -> None:
        with mute_signals(receivers=[on_save]):
            post_save.send(Tag, instance=None)
            custom.send(None)
        with mute_signals(receivers=[f"{__name__}.on_custom"]):
            post_save.send(Tag, instance=None)
            custom.send(None)
        assert calls == ["custom", "save Tag"]

    def test_receivers_given_as_one_key_or_one_callable(self) -> None:
        # Not read character by character (a key) nor refused (a callable).
        for receivers in (f"{__name__}.on_custom", on_custom):
            with mute_signals(receivers=receivers):
                custom.send(None)
                post_save.send(Tag, instance=None)
        assert calls == ["save Tag", "save Tag"]

    def test_every_signal_when_none_is_given(self) -> None:
        with mute_signals():
            post_save.send(Tag, instance=None)
            post_delete.send(Tag, instance=None)
            custom.send(None)
        assert calls == []

    def test_catch_all_spares_django_and_signalkit_receivers(self) -> None:
        with mute_signals():
            # Django's reset_hashers receiver of setting_changed still runs ...
            with override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.ScryptPasswordHasher"]
            ):
                assert type(get_hashers()[0]).__name__ == "ScryptPasswordHasher"
            # ... and so does signalkit's settings bookkeeping.
            with override_settings(SIGNALKIT={"RECEIVERS": {"x.y": False}}):
                assert not gate.is_enabled("x.y")
            assert gate.is_enabled("x.y")

    @pytest.mark.parametrize("scope", ["context", "process"])
    def test_a_mute_of_setting_changed_spares_djangos_and_signalkits_receivers(
        self, scope: str
    ) -> None:
        # override_settings inside it resets Django's caches (and signalkit's
        # settings), so no overridden value outlives the block; the project's
        # receivers of setting_changed are muted.
        def on_setting(sender: Any, **kwargs: Any) -> None:
            calls.append("setting")

        setting_changed.connect(on_setting)
        scrypt = ["django.contrib.auth.hashers.ScryptPasswordHasher"]
        try:
            forget_hashers()
            with mute_signals(setting_changed, post_save, scope=scope):
                with override_settings(PASSWORD_HASHERS=scrypt):
                    assert type(get_hashers()[0]).__name__ == "ScryptPasswordHasher"
                with override_settings(SIGNALKIT={"RECEIVERS": {"x.y": False}}):
                    assert not gate.is_enabled("x.y")
                post_save.send(Tag, instance=None)
            assert type(get_hashers()[0]).__name__ != "ScryptPasswordHasher"
            assert gate.is_enabled("x.y")
        finally:
            setting_changed.disconnect(on_setting)
            forget_hashers()
        assert calls == []

    def test_a_receiver_of_setting_changed_named_in_receivers_is_muted(self) -> None:
        scrypt = ["django.contrib.auth.hashers.ScryptPasswordHasher"]
        get_hashers()
        try:
            with (
                mute_signals(receivers="django.contrib.auth.hashers.reset_hashers"),
                override_settings(PASSWORD_HASHERS=scrypt),
            ):
                assert type(get_hashers()[0]).__name__ != "ScryptPasswordHasher"
        finally:
            forget_hashers()  # (whatever the block left cached)

    def test_blocks_end_in_any_order(self) -> None:
        outer, inner = mute_signals(post_save), mute_signals(custom)
        outer.__enter__()
        inner.__enter__()
        outer.__exit__(None, None, None)
        post_save.send(Tag, instance=None)
        custom.send(None)
        inner.__exit__(None, None, None)
        custom.send(None)
        assert calls == ["save Tag", "custom"]

    def test_one_instance_nested_in_itself(self) -> None:
        muted = mute_signals(post_save)
        with muted:
            with muted:
                post_save.send(Tag, instance=None)
            post_save.send(Tag, instance=None)
        post_save.send(Tag, instance=None)
        assert calls == ["save Tag"]

    def test_async_with(self) -> None:
        async def main() -> None:
            async with mute_signals(custom):
                await custom.asend(None)
            await custom.asend(None)

        asyncio.run(main())
        assert calls == ["custom"]

    def test_bad_scope_is_refused(self) -> None:
        with pytest.raises(ValueError, match="scope is 'thread'; use 'context' or 'process'"):
            mute_signals(scope="thread")

    def test_bad_signal_path_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"'no\.such\.signal' is not the dotted path"):
            mute_signals("no.such.signal")

    def test_short_name_as_listsignals_lists_it(self) -> None:
        with mute_signals("post_save"):
            post_save.send(Author, instance=None, created=False)
        post_delete.send(Author, instance=None)
        assert calls == ["delete Author"]

    def test_a_module_that_fails_to_import_is_named_with_its_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "broken_signals_module.py").write_text(
            "raise ImportError('needs the missing_dependency package')\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        with pytest.raises(ValueError, match="is not the dotted path") as raised:
            mute_signals("broken_signals_module.ping")
        message = str(raised.value)
        assert message.endswith("(Importing it: needs the missing_dependency package)")
        assert message.count("missing_dependency") == 1

    def test_a_module_that_fails_to_import_is_imported_once(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "counted_broken_module.py").write_text(
            "import sys\n"
            "sys.signalkit_counted_imports = getattr(sys, 'signalkit_counted_imports', 0) + 1\n"
            "raise ImportError('needs the missing_dependency package')\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.setattr(sys, "signalkit_counted_imports", 0, raising=False)
        with pytest.raises(ValueError, match="missing_dependency"):
            mute_signals("counted_broken_module.ping")
        assert sys.signalkit_counted_imports == 1  # type: ignore[attr-defined]

    def test_misspelt_short_name_suggests_the_signal(self) -> None:
        with pytest.raises(ValueError, match=r"'post_sav'.*Did you mean 'post_save'"):
            mute_signals("post_sav")

    def test_short_name_of_two_signals_is_refused(self) -> None:
        first = signalkit.Signal("twice_named", module="tests.first")
        second = signalkit.Signal("twice_named", module="tests.second")
        with pytest.raises(ValueError, match=r"ambiguous: use one of tests\.first\.twice_named"):
            mute_signals("twice_named")
        with mute_signals("tests.second.twice_named"):
            assert gate.active_mutes()[0].signal_ids == frozenset({id(second)})
        assert first is not second

    def test_catch_all_spares_the_task_backends_reset(self) -> None:
        # django.tasks's setting_changed receiver on Django 6.0+, the django_tasks
        # backport's on 5.2: override_settings(TASKS=...) works inside it on both.
        module = compat.TASKS_MODULE
        immediate = {"default": {"BACKEND": f"{module}.backends.immediate.ImmediateBackend"}}
        dummy = {"default": {"BACKEND": f"{module}.backends.dummy.DummyBackend"}}
        with override_settings(TASKS=immediate):
            assert type(compat.get_backend("default")).__name__ == "ImmediateBackend"
            with mute_signals(), override_settings(TASKS=dummy):
                assert type(compat.get_backend("default")).__name__ == "DummyBackend"
            assert type(compat.get_backend("default")).__name__ == "ImmediateBackend"

    @pytest.mark.parametrize(
        "senders", [[Tag], (Tag,), {Tag}, frozenset({Tag}), {Tag: 1}, ["testapp.Tag"]], ids=repr
    )
    def test_a_collection_of_senders_is_refused(self, senders: Any) -> None:
        with pytest.raises(TypeError, match=r"^mute_signals\(sender=\.\.\.\) takes one") as info:
            mute_signals(post_save, sender=senders)
        assert str(info.value) == (
            "mute_signals(sender=...) takes one sender, a class or a model label such as "
            f"'blog.Post', not the {type(senders).__name__} {senders!r}. To mute the sends of "
            "several senders, enter one mute_signals(..., sender=...) per sender."
        )

    def test_any_other_object_is_a_sender_of_custom_signals(self) -> None:
        # Sends of a custom signal may come from any object, a collection aside.
        source = object()
        with mute_signals(custom, sender=source):
            custom.send(source)
            custom.send(None)
        with pytest.raises(TypeError, match="takes one sender"):
            mute_signals(custom, sender=[source])
        assert calls == ["custom"]


class MuteSignalsScopeTests:
    def test_other_threads_are_not_muted(self) -> None:
        with mute_signals(custom):
            thread = threading.Thread(target=custom.send, args=(None,))
            thread.start()
            thread.join()
            custom.send(None)
        assert calls == ["custom"]

    def test_other_asyncio_tasks_are_not_muted(self) -> None:
        # The other task sends while this one is inside its block.
        async def muted(entered: asyncio.Event, sent: asyncio.Event) -> None:
            with mute_signals(custom):
                entered.set()
                await sent.wait()
                await custom.asend(None)

        async def unmuted(entered: asyncio.Event, sent: asyncio.Event) -> None:
            await entered.wait()
            await custom.asend(None)
            sent.set()

        async def main() -> None:
            entered, sent = asyncio.Event(), asyncio.Event()
            await asyncio.gather(muted(entered, sent), unmuted(entered, sent))

        asyncio.run(main())
        assert calls == ["custom"]

    def test_tasks_started_inside_the_block_are_muted(self) -> None:
        async def main() -> None:
            with mute_signals(custom):
                await asyncio.create_task(custom.asend(None))

        asyncio.run(main())
        assert calls == []

    def test_process_scope_reaches_other_threads(self) -> None:
        with mute_signals(custom, scope="process"):
            thread = threading.Thread(target=custom.send, args=(None,))
            thread.start()
            thread.join()
        custom.send(None)
        assert calls == ["custom"]

    @pytest.mark.parametrize(("scope", "expected"), [("context", ["custom"]), ("process", [])])
    def test_an_asgi_communicators_application_runs_in_a_context_of_its_own(
        self, scope: str, expected: list[str]
    ) -> None:
        # asgiref's ApplicationCommunicator (and Channels' communicators) start
        # the application in an empty context: only a process-wide mute reaches it.
        async def application(asgi_scope: Any, receive: Any, send: Any) -> None:
            await receive()
            await custom.asend(None)
            await send({"type": "sent"})

        async def main() -> None:
            with mute_signals(custom, scope=scope):
                communicator: Any = ApplicationCommunicator(  # type: ignore[no-untyped-call]
                    application, {"type": "test"}
                )
                await communicator.send_input({"type": "go"})
                assert await communicator.receive_output(5) == {"type": "sent"}
                await communicator.wait(5)

        asyncio.run(main())
        assert calls == expected


class AsyncReceiverMuteTests:
    def test_mute_inside_an_async_receiver_and_its_concurrent_siblings(self) -> None:
        # Documented: Django 6.1 runs one send's async receivers in a shared context.
        from django.dispatch import dispatcher

        outer = Signal()
        entered = asyncio.Event()
        done = asyncio.Event()

        async def muting(sender: Any, **kwargs: Any) -> None:
            async with mute_signals(custom):
                entered.set()
                await done.wait()

        async def sending(sender: Any, **kwargs: Any) -> None:
            await entered.wait()
            await custom.asend(None)
            done.set()

        outer.connect(muting)
        outer.connect(sending)
        asyncio.run(outer.asend(None))
        shared = hasattr(dispatcher, "_run_parallel")
        assert calls == ([] if shared else ["custom"])


class MuteSignalsDecoratorTests:
    def test_sync_function(self) -> None:
        @mute_signals(custom)
        def send() -> str:
            custom.send(None)
            return "done"

        assert send() == "done"
        assert send.__name__ == "send"
        assert calls == []

    def test_async_function(self) -> None:
        @mute_signals(custom)
        async def send() -> str:
            await asyncio.sleep(0)
            await custom.asend(None)
            return "done"

        assert asyncio.iscoroutinefunction(send)
        assert asyncio.run(send()) == "done"
        custom.send(None)
        assert calls == ["custom"]

    def test_generator_function_is_muted_at_each_resumption_only(self) -> None:
        @mute_signals(custom)
        def sends() -> Generator[int | None, int, None]:
            custom.send(None)
            received = yield 1
            custom.send(None)
            yield received

        generator = sends()
        assert next(generator) == 1
        custom.send(None)  # between the yields: not muted
        assert generator.send(2) == 2
        assert list(generator) == []
        assert calls == ["custom"]

    def test_generator_function_gets_thrown_exceptions_and_closes_muted(self) -> None:
        seen: list[str] = []

        @mute_signals(custom)
        def sends() -> Generator[int, None, None]:
            try:
                yield 1
            except ValueError:
                custom.send(None)
                seen.append("caught")
            try:
                yield 2
            finally:
                custom.send(None)
                seen.append("closed")

        generator = sends()
        next(generator)
        assert generator.throw(ValueError) == 2
        generator.close()
        assert seen == ["caught", "closed"]
        assert calls == []

    def test_generator_function_under_contextmanager(self) -> None:
        from contextlib import contextmanager

        @contextmanager
        @mute_signals(custom)
        def helper() -> Iterator[str]:
            custom.send(None)
            yield "ready"
            custom.send(None)

        with helper() as value:
            assert value == "ready"
            custom.send(None)
        assert calls == ["custom"]

    def test_async_generator_function(self) -> None:
        @mute_signals(custom)
        async def sends() -> AsyncGenerator[int | None, int]:
            await custom.asend(None)
            received = yield 1
            await asyncio.sleep(0)
            await custom.asend(None)
            yield received

        async def main() -> list[Any]:
            generator = sends()
            first = await anext(generator)
            await custom.asend(None)  # between the yields: not muted
            second = await generator.asend(2)
            rest = [item async for item in generator]
            return [first, second, rest]

        assert inspect.isasyncgenfunction(sends)
        assert asyncio.run(main()) == [1, 2, []]
        assert calls == ["custom"]

    def test_function_marked_as_a_coroutine_function(self) -> None:
        class Sender:
            def __init__(self) -> None:
                markcoroutinefunction(self)

            async def __call__(self) -> None:
                custom.send(None)

        asyncio.run(mute_signals(custom)(Sender())())
        assert calls == []

    def test_decorated_function_used_from_two_threads_at_once(self) -> None:
        barrier = threading.Barrier(2)

        @mute_signals(custom)
        def send() -> None:
            barrier.wait()
            custom.send(None)
            barrier.wait()

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        custom.send(None)
        assert calls == ["custom"]

    def test_class_and_static_methods(self) -> None:
        # Written above @classmethod, as on a setUpTestData.
        class Case:
            @mute_signals(custom)
            @classmethod
            def make(cls) -> type:
                custom.send(None)
                return cls

            @mute_signals(custom)
            @staticmethod
            def send(value: int) -> int:
                custom.send(None)
                return value

        assert Case.make() is Case
        assert Case().send(3) == 3
        assert Case.send(4) == 4
        assert calls == []

    def test_set_up_class_decorated_above_classmethod(self) -> None:
        class Case(SimpleTestCase):
            @mute_signals(custom)
            @classmethod
            def setUpClass(cls) -> None:
                custom.send(None)
                super().setUpClass()

            def test_nothing(self) -> None:
                pass

        assert run_case(Case).wasSuccessful()
        assert calls == []

    def test_plain_class_is_refused(self) -> None:
        with pytest.raises(TypeError, match="not Plain; decorate its test methods"):

            @mute_signals()
            class Plain:
                pass


@pytest.mark.django_db(transaction=True)
class MuteSignalsClassDecoratorTests:
    def test_test_case_keeps_its_tests_and_covers_set_up_test_data(self) -> None:
        seen: list[list[str]] = []

        @mute_signals(post_save)
        class Case(TestCase):
            @classmethod
            def setUpTestData(cls) -> None:
                Author.objects.create(name="in setUpTestData")
                seen.append(list(calls))

            def test_one(self) -> None:
                Author.objects.create(name="in a test")
                seen.append(list(calls))

            def test_two(self) -> None:
                seen.append(list(calls))

        assert isinstance(Case, type)
        result = run_case(Case)
        assert result.testsRun == 2
        assert result.wasSuccessful()
        assert seen == [[], [], []]
        Author.objects.create(name="after the class")
        assert calls == ["save Author"]

    @pytest.mark.parametrize("base", [SimpleTestCase, TransactionTestCase])
    def test_other_test_case_classes(self, base: type[SimpleTestCase]) -> None:
        @mute_signals(custom)
        class Case(base):  # type: ignore[valid-type,misc]
            databases = {"default"}

            def test_send(self) -> None:
                custom.send(None)

        result = run_case(Case)
        assert result.testsRun == 1
        assert result.wasSuccessful()
        assert calls == []
        custom.send(None)
        assert calls == ["custom"]

    def test_failing_set_up_class_does_not_leak(self) -> None:
        @mute_signals(custom)
        class Case(TestCase):
            @classmethod
            def setUpTestData(cls) -> None:
                raise RuntimeError("broken fixture")

            def test_never_runs(self) -> None:
                pass

        result = run_case(Case)
        assert len(result.errors) == 1
        assert "broken fixture" in result.errors[0][1]
        assert gate.active_mutes() == ()
        custom.send(None)
        assert calls == ["custom"]

    def test_subclass_of_a_decorated_class(self) -> None:
        @mute_signals(custom)
        class Base(SimpleTestCase):
            pass

        class Case(Base):
            def test_send(self) -> None:
                custom.send(None)

        assert run_case(Case).wasSuccessful()
        assert calls == []
        assert gate.active_mutes() == ()


@pytest.mark.django_db(transaction=True)
class MuteSignalsMixinTests:
    def test_the_default_is_a_list_a_subclass_can_extend(self) -> None:
        # (A tuple, "MuteSignalsMixin.muted_signals + [...]" raised TypeError.)
        assert type(MuteSignalsMixin.muted_signals) is list
        assert MuteSignalsMixin.muted_signals == [
            "django.db.models.signals.pre_save",
            "django.db.models.signals.post_save",
            "django.db.models.signals.pre_delete",
            "django.db.models.signals.post_delete",
            "django.db.models.signals.m2m_changed",
        ]

    def test_setting_changed_in_muted_signals_keeps_override_settings_working(self) -> None:
        scrypt = ["django.contrib.auth.hashers.ScryptPasswordHasher"]

        class Case(MuteSignalsMixin, SimpleTestCase):
            muted_signals = ["django.core.signals.setting_changed"]

            @override_settings(PASSWORD_HASHERS=scrypt)
            def test_hashers(self) -> None:
                assert type(get_hashers()[0]).__name__ == "ScryptPasswordHasher"

        forget_hashers()
        result = run_case(Case)
        after = type(get_hashers()[0]).__name__
        forget_hashers()
        assert result.wasSuccessful(), result.failures
        assert after != "ScryptPasswordHasher"

    def test_default_mutes_model_signals(self) -> None:
        class Case(MuteSignalsMixin, TestCase):
            @classmethod
            def setUpTestData(cls) -> None:
                Author.objects.create(name="a")

            def test_delete(self) -> None:
                Author.objects.all().delete()
                custom.send(None)

        assert run_case(Case).wasSuccessful()
        assert calls == ["custom"]
        assert gate.active_mutes() == ()

    def test_empty_list_mutes_nothing(self) -> None:
        class Case(MuteSignalsMixin, TestCase):
            muted_signals = []

            def test_save(self) -> None:
                assert gate.active_mutes() == ()
                Author.objects.create(name="a")

        assert run_case(Case).wasSuccessful()
        assert calls == ["save Author"]

    def test_custom_signals(self) -> None:
        class Case(MuteSignalsMixin, SimpleTestCase):
            muted_signals = [custom, "django.db.models.signals.pre_save"]

            def test_send(self) -> None:
                custom.send(None)
                pre_save.send(Tag, instance=None)
                post_save.send(Tag, instance=None)

        assert run_case(Case).wasSuccessful()
        assert calls == ["save Tag"]

    def test_one_signal_instead_of_a_list(self) -> None:
        class Case(MuteSignalsMixin, SimpleTestCase):
            muted_signals = "django.db.models.signals.post_save"

            def test_send(self) -> None:
                post_save.send(Tag, instance=None)
                custom.send(None)

        assert run_case(Case).wasSuccessful()
        assert calls == ["custom"]

    def test_isolated_asyncio_test_case(self) -> None:
        # It runs each test in a context copied before setUpClass.
        class Case(MuteSignalsMixin, unittest.IsolatedAsyncioTestCase):
            muted_signals = [custom]

            def test_sync(self) -> None:
                custom.send(None)

            async def test_async(self) -> None:
                await custom.asend(None)

        assert run_case(Case).wasSuccessful()
        assert calls == []
        custom.send(None)
        assert calls == ["custom"]

    def test_mixin_after_the_test_case_is_refused(self) -> None:
        # unittest's setUpClass does not call super(): the mixin would never run.
        with pytest.raises(TypeError) as info:

            class Case(TestCase, MuteSignalsMixin):
                pass

        assert str(info.value) == (
            "MuteSignalsMixin comes after TestCase in the bases of Case, so it would "
            "mute nothing; put it first: class Case(MuteSignalsMixin, TestCase)."
        )

    def test_subclass_of_a_muted_case_is_accepted(self) -> None:
        class Base(MuteSignalsMixin, TestCase):
            pass

        class Case(Base):
            def test_save(self) -> None:
                Author.objects.create(name="a")

        assert run_case(Case).wasSuccessful()
        assert calls == []

    def test_misspelt_path_is_refused_as_the_class_is_created(self) -> None:
        with pytest.raises(ValueError, match=r"^Case\.muted_signals: ") as info:

            class Case(MuteSignalsMixin, TestCase):
                muted_signals = ["django.db.models.signals.post_sav"]

        assert "Did you mean 'django.db.models.signals.post_save'" in str(info.value)

    def test_sender_in_muted_signals_is_refused_as_the_class_is_created(self) -> None:
        with pytest.raises(TypeError) as info:

            class Case(MuteSignalsMixin, TestCase):
                muted_signals = [custom, Tag]  # type: ignore[list-item]

        assert str(info.value) == (
            "Case.muted_signals: <class 'tests.testapp.models.Tag'> is not a signal or the "
            "dotted path of one. To mute the sends of a sender, give it as "
            "mute_signals(sender=...)."
        )

    def test_path_into_a_module_not_imported_yet_is_resolved_by_set_up_class(self) -> None:
        # Creating the class imports nothing: running it imports the module.
        module = "tests.registryapp.unimported"
        sys.modules.pop(module, None)

        class Case(MuteSignalsMixin, SimpleTestCase):
            muted_signals = [f"{module}.stock_low"]

            def test_muted(self) -> None:
                [mute] = gate.active_mutes()
                assert mute.signal_ids == frozenset({id(sys.modules[module].stock_low)})

        try:
            assert module not in sys.modules
            result = run_case(Case)
        finally:
            sys.modules.pop(module, None)
        assert result.wasSuccessful(), result.failures

    def test_path_into_the_module_being_imported_is_resolved_by_set_up_class(self) -> None:
        # The class's own module defines the signal after it.
        sys.modules.pop("tests.mute_late", None)
        try:
            module = importlib.import_module("tests.mute_late")
            result = run_case(module.LateSignalCase)
        finally:
            sys.modules.pop("tests.mute_late", None)
        assert result.wasSuccessful(), result.failures


def on_ping(sender: Any, **kwargs: Any) -> None:
    calls.append("ping")


@pytest.mark.django_db(transaction=True)
class MuteSignalsLiveServerTests:
    """The live server answers requests in its own threads."""

    @pytest.fixture(autouse=True)
    def ping_receiver(self) -> Iterator[None]:
        pinged.connect(on_ping)
        yield
        pinged.disconnect(on_ping)

    @staticmethod
    def live_server_case(scope: str) -> type[LiveServerTestCase]:
        @override_settings(ROOT_URLCONF="tests.testingapp.views", STATIC_URL="/static/")
        @mute_signals(pinged, scope=scope)
        class Case(LiveServerTestCase):
            def test_ping(self) -> None:
                with urlopen(f"{self.live_server_url}/ping/") as response:
                    self.body = response.read()

        return Case

    def test_process_scope_reaches_the_server_threads(self) -> None:
        result = run_case(self.live_server_case("process"))
        assert result.testsRun == 1
        assert result.wasSuccessful(), result.errors
        assert calls == []
        assert gate.active_mutes() == ()

    def test_context_scope_does_not(self) -> None:
        result = run_case(self.live_server_case("context"))
        assert result.wasSuccessful(), result.errors
        assert calls == ["ping"]

    def test_the_mixins_process_scope_reaches_the_server_threads(self) -> None:
        @override_settings(ROOT_URLCONF="tests.testingapp.views", STATIC_URL="/static/")
        class Case(MuteSignalsMixin, LiveServerTestCase):
            muted_signals = [pinged]
            mute_scope = "process"

            def test_ping(self) -> None:
                with urlopen(f"{self.live_server_url}/ping/") as response:
                    self.body = response.read()

        result = run_case(Case)
        assert result.testsRun == 1
        assert result.wasSuccessful(), result.errors
        assert calls == []
        assert gate.active_mutes() == ()


class MuteSignalsSharingTests:
    def test_same_arguments_share_one_instance(self) -> None:
        assert mute_signals(custom) is mute_signals(custom)
        assert mute_signals(custom, sender="testapp.Tag") is not mute_signals(custom)
        assert mute_signals(receivers=[on_custom]) is not mute_signals(receivers=[on_custom])

    def test_shared_instance_nested_in_two_threads(self) -> None:
        barrier = threading.Barrier(2)

        def send() -> None:
            with mute_signals(custom):
                barrier.wait()
                custom.send(None)
                barrier.wait()
            custom.send(None)

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert calls == ["custom", "custom"]
