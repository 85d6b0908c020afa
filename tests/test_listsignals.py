from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db.models.signals import post_save

from signalkit.dispatch import Signal
from tests.registryapp import handlers
from tests.testapp.models import Article

if TYPE_CHECKING:
    from collections.abc import Iterator

PATH = "tests.test_listsignals.command_demo"


pytestmark = pytest.mark.usefixtures("test_signals_disconnected")


@pytest.fixture
def signal() -> Iterator[Signal]:
    signal = Signal("command_demo", module="tests.test_listsignals")
    signal.connect(handlers.on_event, sender=Article)
    yield signal
    del signal


class DynamicCallable:
    """A callable whose ``__getattr__`` answers every name (proxies, stubs)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        pass


def run(*args: str) -> str:
    out = StringIO()
    call_command("listsignals", *args, stdout=out)
    return out.getvalue()


def run_with(**options: Any) -> str:
    out = StringIO()
    call_command("listsignals", stdout=out, **options)
    return out.getvalue()


class ListSignalsTests:
    def test_text(self, signal: Signal) -> None:
        assert run(PATH) == (
            "command_demo (tests.test_listsignals.command_demo)\n"
            "  tests.registryapp.handlers.on_event  testapp.Article  weak"
            "  tests/registryapp/handlers.py:13\n"
        )

    def test_default_lists_the_projects_receivers(self, signal: Signal) -> None:
        out = run()
        assert "post_save (django.db.models.signals.post_save)\n" in out
        assert "tests.testapp.signals.remember_author" in out
        assert PATH in out
        assert "close_old_connections" not in out
        assert "(no receivers)" not in out

    def test_include_django_and_all(self) -> None:
        assert "django.db.close_old_connections" in run("--include-django")
        assert "pre_init (django.db.models.signals.pre_init)\n  (no receivers)\n" in run("--all")

    def test_sender_and_app(self, signal: Signal) -> None:
        assert "remember_author" in run("--sender", "testapp.Author")
        assert "remember_author" not in run("--sender", "testapp.Article")
        assert run("--app", "testapp", "post_save", "--format", "json").count('"key"') == 1

    def test_exact_sender_and_app(self, signal: Signal) -> None:
        signal.connect(handlers.decorated, sender=handlers.Handlers)
        assert run(PATH, "--sender", "testapp.Article") == (
            "command_demo (tests.test_listsignals.command_demo)\n"
            "  tests.registryapp.handlers.on_event  testapp.Article  weak"
            "  tests/registryapp/handlers.py:13\n"
        )
        assert run(PATH, "--app", "registryapp") == (
            "command_demo (tests.test_listsignals.command_demo)\n"
            "  tests.registryapp.handlers.on_event   testapp.Article                      weak\n"
            "      at tests/registryapp/handlers.py:13\n"
            "  tests.registryapp.handlers.decorated  tests.registryapp.handlers.Handlers  weak\n"
            "      at tests/registryapp/handlers.py:29\n"
        )
        assert run(PATH, "--app", "testapp") == (
            "command_demo (tests.test_listsignals.command_demo)\n  (no receivers)\n"
        )

    def test_sender_marks_receivers_for_any_sender_and_sender_only_leaves_them_out(
        self, signal: Signal
    ) -> None:
        # Those connected for any sender run for the model too: listed, and marked.
        signal.connect(handlers.decorated)
        assert run(PATH, "--sender", "testapp.Article") == (
            "command_demo (tests.test_listsignals.command_demo)\n"
            "  tests.registryapp.handlers.on_event   testapp.Article  weak"
            "  tests/registryapp/handlers.py:13\n"
            "  tests.registryapp.handlers.decorated  any sender       weak"
            "  tests/registryapp/handlers.py:29\n"
        )
        assert run(PATH, "--sender", "testapp.Article", "--sender-only") == (
            "command_demo (tests.test_listsignals.command_demo)\n"
            "  tests.registryapp.handlers.on_event  testapp.Article  weak"
            "  tests/registryapp/handlers.py:13\n"
        )
        # Signals with receivers for any sender only are not listed unless named.
        listed = run("--sender", "testapp.Article", "--sender-only")
        assert "command_demo (tests.test_listsignals.command_demo)\n" in listed
        assert "user_logged_in" not in listed
        assert "user_logged_in" in run("--sender", "testapp.Article")

    def test_sender_only_without_a_sender_is_a_command_error(self) -> None:
        with pytest.raises(CommandError, match=r"^--sender-only needs --sender app_label\.Model"):
            run("--sender-only")

    def test_exact_all_and_include_django(self) -> None:
        assert run("pre_init", "--all") == (
            "pre_init (django.db.models.signals.pre_init)\n  (no receivers)\n"
        )
        assert run("request_finished") == (
            "request_finished (django.core.signals.request_finished)\n  (no receivers)\n"
        )
        document = json.loads(run("request_finished", "--include-django", "--format", "json"))
        assert {r["key"] for r in document["signals"][0]["receivers"]} >= {
            "django.db.close_old_connections",
            "django.core.cache.close_caches",
        }

    def test_signal_named_twice_is_listed_once(self, signal: Signal) -> None:
        expected = (
            "command_demo (tests.test_listsignals.command_demo)\n"
            "  tests.registryapp.handlers.on_event  testapp.Article  weak"
            "  tests/registryapp/handlers.py:13\n"
        )
        assert run(PATH, "command_demo") == expected
        assert run("command_demo", PATH, PATH) == expected

    def test_builtin_signal_named_by_name_and_path_is_listed_once(self) -> None:
        document = json.loads(
            run("post_save", "django.db.models.signals.post_save", "--format", "json")
        )
        [block] = document["signals"]
        assert block["path"] == "django.db.models.signals.post_save"
        assert [r["key"] for r in block["receivers"]].count(
            "tests.testapp.signals.remember_author"
        ) == 1

    def test_json(self, signal: Signal) -> None:
        document = json.loads(run(PATH, "--format", "json"))
        assert document["version"] == 1
        assert [r["key"] for r in document["signals"][0]["receivers"]] == [
            "tests.registryapp.handlers.on_event"
        ]

    def test_mermaid(self, signal: Signal) -> None:
        assert run(PATH, "--format=mermaid") == (
            "flowchart LR\n"
            '    s0["command_demo"]\n'
            '    r0["tests.registryapp.handlers.on_event"]\n'
            '    s0 -->|"testapp.Article"| r0\n'
        )

    def test_a_signal_in_a_module_nobody_imported(self) -> None:
        sys.modules.pop("tests.registryapp.unimported", None)
        out = StringIO()
        try:
            call_command("listsignals", "tests.registryapp.unimported.stock_low", stdout=out)
        finally:
            sys.modules.pop("tests.registryapp.unimported", None)
        assert "tests.registryapp.unimported.stock_low" in out.getvalue()

    @pytest.mark.parametrize("factory", [mock.AsyncMock, DynamicCallable])
    def test_callables_with_dynamic_attributes_are_listed(
        self, signal: Signal, factory: type[Any]
    ) -> None:
        # (An AsyncMock connected to test async receivers answers __code__ with
        # a mock; a proxy's __getattr__ with anything.)
        receiver = factory()
        signal.connect(receiver, weak=False)
        key = f"{type(receiver).__module__}.{type(receiver).__qualname__}"
        assert f"  {key}  " in run(PATH)
        listed = json.loads(run(PATH, "--format", "json"))["signals"][0]["receivers"]
        assert [row["key"] for row in listed] == ["tests.registryapp.handlers.on_event", key]
        assert run(PATH, "--format", "mermaid").startswith("flowchart LR\n")

    def test_a_mock_with_a_function_spec_gives_names_that_are_strings(self, signal: Signal) -> None:
        signal.connect(mock.MagicMock(spec=handlers.on_event), weak=False)
        listed = json.loads(run(PATH, "--format", "json"))["signals"][0]["receivers"]
        assert all(isinstance(row["qualname"], str | None) for row in listed)
        assert all(isinstance(row["location"], str | None) for row in listed)

    @pytest.mark.parametrize("uid", [float("nan"), float("inf")])
    def test_a_non_finite_float_uid_gives_valid_json(self, signal: Signal, uid: float) -> None:
        signal.connect(handlers.decorated, dispatch_uid=uid)

        def refuse(constant: str) -> None:
            raise ValueError(constant)

        document = json.loads(run(PATH, "--format", "json"), parse_constant=refuse)
        uids = [row["dispatch_uid"] for row in document["signals"][0]["receivers"]]
        assert repr(uid) in uids

    def test_a_format_given_to_call_command_is_checked(self) -> None:
        # (call_command() does not check an option's choices.)
        with pytest.raises(CommandError, match="Unknown format 'yaml': use one of json, "):
            call_command("listsignals", format="yaml")

    @pytest.mark.parametrize("signals", ["post_save", ["post_save"], ("post_save",)])
    def test_signals_given_to_call_command_by_keyword(self, signals: Any) -> None:
        # (A string is one name, not a list of its letters.)
        assert run_with(signals=signals) == run("post_save")
        assert run_with(signals=signals).startswith(
            "post_save (django.db.models.signals.post_save)\n"
        )

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            (
                {"sender": Article()},
                r"^sender is an instance of testapp\.Article; model signals are sent by the "
                r"model class: use Article or 'testapp\.Article'\.$",
            ),
            ({"sender": 42}, "^sender must be a model"),
            ({"app": 42}, r"^app must be an app label \(a string\), not 42\.$"),
            ({"signals": [post_save]}, "^A signal is given by its name or dotted path"),
            ({"signals": 42}, "^Signals are given as a list of names or dotted paths, not 42"),
        ],
    )
    def test_options_of_the_wrong_type_are_a_command_error(
        self, options: dict[str, Any], message: str
    ) -> None:
        out = StringIO()
        with pytest.raises(CommandError, match=message):
            call_command("listsignals", stdout=out, **options)
        assert out.getvalue() == ""

    def test_a_model_class_given_to_call_command_filters_by_it(self, signal: Signal) -> None:
        assert run_with(signals=[PATH], sender=Article) == run(PATH, "--sender", "testapp.Article")

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["post_sav"], "Unknown signal 'post_sav'. Did you mean 'post_save'"),
            (["--sender", "testapp.Artcle"], "Did you mean 'testapp.Article'"),
            (["--app", "testap"], "Unknown app label 'testap'. Did you mean 'testapp'?"),
            (
                ["--app", "tests.testapp"],
                "Unknown app label 'tests.testapp'. It is the module of the app labelled "
                "'testapp': use that.",
            ),
            (
                ["tests.registryapp.broken.order_lost"],
                "Importing 'tests.registryapp.broken' failed: No module named "
                "'signalkit_tests_no_such_module'",
            ),
        ],
    )
    def test_bad_input_is_a_command_error(self, args: list[str], message: str) -> None:
        out = StringIO()
        with pytest.raises(CommandError, match=message):
            call_command("listsignals", *args, stdout=out)
        assert out.getvalue() == ""

    def test_bad_input_exits_non_zero_with_nothing_on_stdout(self) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "django", "listsignals", "post_sav"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": "."},
        )
        assert result.returncode == 1
        assert result.stdout == ""
        assert "CommandError: Unknown signal 'post_sav'. Did you mean 'post_save'" in result.stderr
