"""The snippets of the tutorial's section on request, migration and login signals.

Each ``python`` block of that section of ``docs/tutorial.rst`` is run as written,
as the module its first line names, and the signals it handles are then sent by
Django itself.
"""

from __future__ import annotations

import logging
import re
import textwrap
import types
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING

import django
import pytest
from django.contrib.auth.models import Group, User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.management import call_command
from django.core.signals import got_request_exception, request_finished, request_started
from django.db.models.signals import post_migrate, pre_migrate
from django.http import HttpRequest, HttpResponse
from django.test import TestCase, TransactionTestCase, override_settings
from django.urls import path

if TYPE_CHECKING:
    from django.dispatch import Signal

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.rst"
SECTION = "10. Requests, migrations and logins"
SIGNALS: list[Signal] = [
    request_started,
    request_finished,
    got_request_exception,
    pre_migrate,
    post_migrate,
    user_logged_in,
    user_logged_out,
    user_login_failed,
]


def snippets() -> list[str]:
    """The ``python`` code blocks of the section, dedented."""
    text = TUTORIAL.read_text()
    section = text[text.index(f"{SECTION}\n") :]
    following = re.search(r"\n\n[^\n]+\n-{3,}\n", section[len(SECTION) + 1 :])
    if following:
        section = section[: len(SECTION) + 1 + following.start()]
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", section)
    return [textwrap.dedent(block) for block in blocks]


def snippet(first_line: str, containing: str) -> str:
    found = [code for code in snippets() if code.startswith(first_line) and containing in code]
    assert len(found) == 1, found
    return found[0]


class SnippetMixin:
    """Runs a snippet as the module its first line names; its receivers go with the test."""

    def run_snippet(self, code: str) -> types.ModuleType:
        name = code.splitlines()[0].removeprefix("# ").removesuffix(".py").replace("/", ".")
        module = types.ModuleType(name)
        exec(compile(code, str(TUTORIAL), "exec"), module.__dict__)
        # A cleanup, so that they are gone before TransactionTestCase flushes.
        self.addCleanup(disconnect, module)  # type: ignore[attr-defined]
        return module


def disconnect(module: types.ModuleType) -> None:
    for value in vars(module).values():
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            for signal in SIGNALS:
                signal.disconnect(value)


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [
    path("fail/", fail),
    path("ok/", lambda request: HttpResponse("ok")),
]


@override_settings(ROOT_URLCONF=__name__)
class RequestSignalsTests(SnippetMixin, TestCase):
    def test_timing_a_request(self) -> None:
        self.run_snippet(snippet("# blog/signals.py", "request_start"))
        with self.assertLogs("blog.signals", logging.INFO) as logs:
            assert self.client.get("/ok/").status_code == 200
        assert len(logs.records) == 1
        assert re.fullmatch(r"Request took \d+\.\d ms", logs.records[0].getMessage())

    @pytest.mark.skipif(
        django.VERSION < (6, 1), reason="Django 5.2 and 6.0 drop the receivers' context"
    )
    async def test_timing_an_asgi_request(self) -> None:
        self.run_snippet(snippet("# blog/signals.py", "request_start"))
        with self.assertLogs("blog.signals", logging.INFO) as logs:
            response = await self.async_client.get("/ok/")
        assert response.status_code == 200
        assert len(logs.records) == 1
        assert re.fullmatch(r"Request took \d+\.\d ms", logs.records[0].getMessage())

    @pytest.mark.skipif(django.VERSION >= (6, 1), reason="Django 6.1 keeps the receivers' context")
    async def test_timing_is_not_logged_under_asgi_before_django_6_1(self) -> None:
        self.run_snippet(snippet("# blog/signals.py", "request_start"))
        with self.assertNoLogs("blog.signals", logging.INFO):
            response = await self.async_client.get("/ok/")
        assert response.status_code == 200

    def test_logging_an_exception(self) -> None:
        self.run_snippet(snippet("# blog/signals.py", "got_request_exception"))
        self.client.raise_request_exception = False
        with (
            self.assertLogs("blog.signals", logging.ERROR) as logs,
            self.assertLogs("django.request", logging.ERROR),
        ):
            assert self.client.get("/fail/?page=2").status_code == 500
        [record] = logs.records
        assert record.getMessage() == "Unhandled exception on GET /fail/"
        assert record.exc_info is not None
        assert record.exc_info[0] is RuntimeError


class MigrateSignalsTests(SnippetMixin, TransactionTestCase):
    databases = {"default", "other"}

    def test_seeding_after_migrate_uses_the_migrated_database(self) -> None:
        self.run_snippet(snippet("# blog/signals.py", "post_migrate"))
        call_command("migrate", database="other", verbosity=0, stdout=StringIO())
        assert list(Group.objects.using("other").values_list("name", flat=True)) == ["Editors"]
        assert not Group.objects.using("default").exists()
        call_command("migrate", database="other", verbosity=0, stdout=StringIO())
        assert Group.objects.using("other").count() == 1

    def test_flush_sends_post_migrate_without_apps(self) -> None:
        self.run_snippet(snippet("# blog/signals.py", "post_migrate"))
        call_command("flush", database="other", interactive=False, verbosity=0)
        assert Group.objects.using("other").filter(name="Editors").exists()

    def test_pre_migrate_logs_each_apps_plan(self) -> None:
        self.run_snippet(snippet("# blog/signals.py", "post_migrate"))
        with self.assertLogs("blog.signals", logging.INFO) as logs:
            call_command(
                "migrate", "profilesapp", "0002", database="other", verbosity=0, stdout=StringIO()
            )
            call_command("migrate", "profilesapp", database="other", verbosity=0, stdout=StringIO())
        assert [record.getMessage() for record in logs.records] == [
            "Migrating profilesapp on other: "
            "0005_generated_and_shared_parent, 0004_profile_shapes, 0003_richprofile",
            "Migrating profilesapp on other: "
            "0003_richprofile, 0004_profile_shapes, 0005_generated_and_shared_parent",
        ]


class LoginSignalsTests(SnippetMixin, TestCase):
    def test_logins_logouts_and_failures_are_logged_without_the_password(self) -> None:
        self.run_snippet(snippet("# accounts/signals.py", "user_login_failed"))
        User.objects.create_user("ada", password="s3cret-pw")
        with self.assertLogs("accounts.signals", logging.INFO) as logs:
            assert self.client.login(username="ada", password="s3cret-pw")
            self.client.logout()
            self.client.logout()  # an anonymous session: user is None
            assert not self.client.login(username="ada", password="wrong-pw")
        assert [(record.levelname, record.getMessage()) for record in logs.records] == [
            ("INFO", "ada logged in"),
            ("INFO", "ada logged out"),
            ("WARNING", "Failed login for 'ada'"),
        ]
        assert "pw" not in "".join(logs.output)


class SnippetsTests:
    def test_the_section_has_four_snippets(self) -> None:
        assert [code.splitlines()[0] for code in snippets()] == [
            "# blog/signals.py",
            "# blog/signals.py",
            "# blog/signals.py",
            "# accounts/signals.py",
        ]
