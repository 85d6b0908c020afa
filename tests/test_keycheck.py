from __future__ import annotations

import functools
import sys
import unittest
from typing import TYPE_CHECKING, Any

import pytest
from django.db.models.signals import post_save
from django.dispatch import Signal
from django.test import SimpleTestCase

import signalkit
from signalkit import gate, keycheck
from signalkit.testing import mute_signals
from tests.testapp.models import Tag
from tests.testapp.signals import remember_author

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

calls: list[str] = []
custom = Signal()


def notify_followers(sender: Any, **kwargs: Any) -> None:
    calls.append("notify")


class Handlers:
    def on_custom(self, sender: Any, **kwargs: Any) -> None:
        calls.append("method")


on_lambda = lambda sender, **kwargs: calls.append("lambda")  # noqa: E731


class Dispatching:
    @functools.singledispatchmethod
    def on_custom(self, sender: Any, **kwargs: Any) -> None:
        calls.append("dispatching")


def make_receiver() -> Any:
    def local_receiver(sender: Any, **kwargs: Any) -> None:
        calls.append("local")

    return local_receiver


@pytest.fixture
def fixture_receiver() -> Iterator[None]:
    def from_fixture(sender: Any, **kwargs: Any) -> None:
        calls.append("fixture")

    custom.connect(from_fixture)
    yield
    custom.disconnect(from_fixture)


@pytest.fixture(autouse=True)
def cleared(request: pytest.FixtureRequest) -> Iterator[None]:
    calls.clear()
    yield
    custom.receivers.clear()
    custom.sender_receivers_cache.clear()
    if request.node.get_closest_marker("mute_signals") is None:  # (it ends after this)
        assert gate.active_mutes() == ()


KEY = f"{__name__}.notify_followers"


def refusal(receivers: Any, *signals: Signal) -> str:
    """The error that entering a mute of ``receivers`` raises."""
    with (
        pytest.raises(ValueError, match="names no receiver") as raised,
        mute_signals(*signals, receivers=receivers),
    ):
        pass
    return str(raised.value)


class TypoInAKeyTests:
    def test_a_misspelt_function_is_refused_with_the_name_it_may_mean(self) -> None:
        custom.connect(notify_followers)
        assert refusal(f"{__name__}.notify_follwers") == (
            f"mute_signals(receivers=...) has the receiver key '{__name__}.notify_follwers', "
            f"which names no receiver: the module '{__name__}' has no attribute "
            f"'notify_follwers'. Did you mean '{KEY}'? A key is the receiver's "
            "'module.qualname' (or the name= it was connected with), as 'manage.py "
            "listsignals' shows it; or pass the receiver itself."
        )

    def test_nothing_is_muted_when_refused(self) -> None:
        custom.connect(notify_followers)
        refusal([KEY, f"{__name__}.remember_author"], custom)
        custom.send(None)
        assert calls == ["notify"]

    def test_a_misspelt_key_is_refused_as_its_block_ends(self) -> None:
        # (A module imported in the block could give that name with name=.)
        custom.connect(notify_followers)
        with (
            pytest.raises(ValueError, match="has no attribute 'notify_follwers'"),
            mute_signals(receivers=f"{__name__}.notify_follwers"),
        ):
            custom.send(None)
        assert calls == ["notify"]
        assert gate.active_mutes() == ()

    def test_a_path_through_a_function_names_it(self) -> None:
        message = refusal(f"{__name__}.make_receiver.local_receiver")
        assert f"the function '{__name__}.make_receiver' has no attribute" in message

    def test_a_misspelt_module_is_refused(self) -> None:
        message = refusal("tests.test_keychek.notify_followers")
        assert "the module 'tests' has no attribute 'test_keychek'" in message

    def test_a_misspelt_method_is_refused(self) -> None:
        message = refusal(f"{__name__}.Handlers.on_custm")
        assert f"the class '{__name__}.Handlers' has no attribute 'on_custm'" in message
        assert f"Did you mean '{__name__}.Handlers.on_custom'?" in message

    def test_a_misspelt_local_function_is_refused(self) -> None:
        message = refusal(f"{__name__}.make_receiver.<locals>.local_recever")
        assert "'make_receiver' defines no local function or class 'local_recever'" in message
        assert f"Did you mean '{__name__}.make_receiver.<locals>.local_receiver'?" in message

    def test_an_alias_is_refused_with_the_key_of_what_it_names(self) -> None:
        # Imported here: a path to it that is not its key.
        assert remember_author.__module__ == "tests.testapp.signals"
        assert (
            f"'{__name__}.remember_author' is a callable whose receiver key is "
            "'tests.testapp.signals.remember_author'. Did you mean "
            "'tests.testapp.signals.remember_author'?"
        ) in refusal(f"{__name__}.remember_author")

    def test_a_signal_given_as_a_key_is_refused(self) -> None:
        assert "is a signal; mute a signal by passing it first" in refusal(f"{__name__}.custom")

    def test_the_class_decorator_fails_the_class_and_leaks_nothing(self) -> None:
        @mute_signals(receivers=f"{__name__}.remember_author")
        class Case(SimpleTestCase):
            def test_send(self) -> None:
                custom.send(None)

        suite = unittest.defaultTestLoader.loadTestsFromTestCase(Case)
        result = unittest.TestResult()
        suite.run(result)
        [(_, error)] = result.errors
        assert "is a callable whose receiver key is" in error
        assert result.testsRun == 0
        assert gate.active_mutes() == ()

    def test_the_class_decorator_fails_a_misspelt_key_after_its_tests(self) -> None:
        @mute_signals(receivers=f"{__name__}.notify_follwers")
        class Case(SimpleTestCase):
            def test_send(self) -> None:
                custom.send(None)

        suite = unittest.defaultTestLoader.loadTestsFromTestCase(Case)
        result = unittest.TestResult()
        suite.run(result)
        [(_, error)] = result.errors
        assert "has no attribute 'notify_follwers'" in error
        assert result.testsRun == 1
        assert gate.active_mutes() == ()

    def test_receivers_that_are_neither_callables_nor_keys_are_refused(self) -> None:
        with pytest.raises(TypeError, match=r"not the signal .*: to mute a signal, pass it first"):
            mute_signals(receivers=[post_save])
        with pytest.raises(TypeError, match=r"callables\) or their keys .*, not 42"):
            mute_signals(receivers=[42])

    def test_a_receiver_passed_as_a_signal_is_refused_with_a_hint(self) -> None:
        with pytest.raises(
            TypeError, match=r"give it \(or its key\) as mute_signals\(receivers=\.\.\.\)"
        ):
            mute_signals(notify_followers)  # type: ignore[arg-type]
        with pytest.raises(
            ValueError, match=r"give it \(or its key\) as mute_signals\(receivers=\.\.\.\)"
        ):
            mute_signals(KEY)
        with pytest.raises(TypeError, match=r"give it as mute_signals\(sender=\.\.\.\)"):
            mute_signals(Tag)  # type: ignore[arg-type]


class AcceptedKeysTests:
    def test_a_receiver_connected_later_inside_the_block_is_muted(self) -> None:
        with mute_signals(receivers=KEY):
            custom.connect(notify_followers)
            custom.send(None)
        custom.send(None)
        assert calls == ["notify"]

    def test_keys_of_methods_partials_lambdas_and_local_functions(self) -> None:
        local = make_receiver()
        handlers = Handlers()
        for receiver in (handlers.on_custom, functools.partial(notify_followers), on_lambda, local):
            custom.connect(receiver)
        keys = [
            f"{__name__}.Handlers.on_custom",
            KEY,
            f"{__name__}.<lambda>",
            f"{__name__}.make_receiver.<locals>.local_receiver",
        ]
        with mute_signals(receivers=keys):
            custom.send(None)
        assert calls == []

    def test_a_local_function_of_a_fixture(self, fixture_receiver: None) -> None:
        with mute_signals(receivers=f"{__name__}.fixture_receiver.<locals>.from_fixture"):
            custom.send(None)
        assert calls == []

    def test_a_connected_receiver_whose_key_is_no_path(self) -> None:
        def renamed(sender: Any, **kwargs: Any) -> None:
            calls.append("renamed")

        renamed.__qualname__ = "not_in_the_module"
        custom.connect(renamed)
        with mute_signals(receivers=f"{__name__}.not_in_the_module"):
            custom.send(None)
        assert calls == []

    def test_a_module_with_a_getattr_hook_is_not_second_guessed(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "lazy_receivers_module.py").write_text(
            "def __getattr__(name):\n    raise AttributeError(name)\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        with mute_signals(receivers="lazy_receivers_module.on_save"):
            pass

    def test_a_descriptor_receiver_connected_later_inside_the_block(self) -> None:
        # A singledispatchmethod gives each instance a function with its key.
        with mute_signals(receivers=f"{__name__}.Dispatching.on_custom"):
            custom.connect(Dispatching().on_custom, weak=False)
            custom.send(None)
        assert calls == []

    def test_each_key_is_checked_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        followed: list[str] = []
        original = keycheck._follow

        def follow(key: str) -> keycheck.Problem | None:
            followed.append(key)
            return original(key)

        monkeypatch.setattr(keycheck, "_follow", follow)
        key = f"{__name__}.make_receiver"  # (no other test mutes it)
        for _ in range(3):
            with mute_signals(receivers=key):
                pass
        assert followed == [key]


class UnimportedModuleTests:
    """A key into a module not imported yet: nothing is imported to check it."""

    @pytest.fixture
    def modules(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
        monkeypatch.syspath_prepend(str(tmp_path))
        yield tmp_path
        for name in (
            "keycheck_late_receivers",
            "keycheck_later_receivers",
            "keycheck_broken_receivers",
        ):
            sys.modules.pop(name, None)

    def test_its_module_is_not_imported(self, modules: Path) -> None:
        (modules / "keycheck_late_receivers.py").write_text(
            "from tests.test_keycheck import calls\n"
            "calls.append('imported')\n\n"
            "def on_save(sender, **kwargs):\n"
            "    pass\n"
        )
        with mute_signals(receivers="keycheck_late_receivers.on_save"):
            pass
        assert "keycheck_late_receivers" not in sys.modules
        assert calls == []

    def test_a_module_that_would_fail_to_import_is_not_refused(self, modules: Path) -> None:
        # (An optional dependency, or an app these settings do not install.)
        (modules / "keycheck_broken_receivers.py").write_text(
            "raise ImportError('needs the missing_dependency package')\n"
        )
        with mute_signals(receivers="keycheck_broken_receivers.on_save"):
            pass

    def test_a_module_imported_inside_the_block_is_checked_then(self, modules: Path) -> None:
        (modules / "keycheck_late_receivers.py").write_text(
            "def on_save(sender, **kwargs):\n    pass\n"
        )
        with (
            pytest.raises(ValueError, match="'keycheck_late_receivers' has no attribute 'on_sav'"),
            mute_signals(receivers="keycheck_late_receivers.on_sav"),
        ):
            __import__("keycheck_late_receivers")

    def test_it_is_looked_for_again_only_once_imported(
        self, modules: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (modules / "keycheck_later_receivers.py").write_text(
            "def on_save(sender, **kwargs):\n    pass\n"
        )
        followed: list[str] = []
        original = keycheck._follow

        def follow(key: str) -> keycheck.Problem | None:
            followed.append(key)
            return original(key)

        monkeypatch.setattr(keycheck, "_follow", follow)
        key = "keycheck_later_receivers.on_save"
        for _ in range(3):
            with mute_signals(receivers=key):
                pass
        assert followed == [key]
        __import__("keycheck_later_receivers")
        with mute_signals(receivers=key):
            pass
        assert followed == [key, key]


class KeysNamedLaterTests:
    def test_a_dotted_name_given_inside_the_block(self) -> None:
        # As a module that the code under test imports would give it: its first
        # part is a package (tests), which has no such attribute.
        with mute_signals(receivers="tests.keycheck_named_inside"):

            @signalkit.receiver(custom, name="tests.keycheck_named_inside")
            def named(sender: Any, **kwargs: Any) -> None:
                calls.append("named")

            custom.send(None)
        assert calls == []

    def test_a_name_given_inside_the_block(self) -> None:
        with mute_signals(receivers="keycheck-named-inside"):

            @signalkit.receiver(custom, name="keycheck-named-inside")
            def named(sender: Any, **kwargs: Any) -> None:
                calls.append("named")

            custom.send(None)
        assert calls == []

    def test_a_key_that_named_nothing_until_the_end_fails_then(self) -> None:
        with (
            pytest.raises(ValueError, match="'keycheck-never-named', which names no receiver"),
            mute_signals(receivers="keycheck-never-named"),
        ):
            custom.send(None)
        assert gate.active_mutes() == ()

    def test_an_error_ending_the_block_gets_a_note(self) -> None:
        with (
            pytest.raises(RuntimeError, match="the receiver ran") as raised,
            mute_signals(receivers="keycheck.never.named"),
        ):
            raise RuntimeError("the receiver ran")
        [note] = raised.value.__notes__
        assert "'keycheck.never.named', which names no receiver: no module named" in note


class MarkerKeyTests:
    @pytest.mark.mute_signals(post_save, receivers=KEY)
    def test_marker_with_a_good_key(self) -> None:
        custom.connect(notify_followers)
        post_save.connect(notify_followers, sender=Tag)
        try:
            post_save.send(Tag, instance=None)
        finally:
            post_save.disconnect(notify_followers, sender=Tag)
        custom.send(None)
        assert calls == ["notify"]
