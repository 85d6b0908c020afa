"""The tutorial, typed into a new project as a reader would.

``django-admin startproject`` makes the project and ``startapp`` its apps; the
tutorial's snippets that name a file go into that file, those that add receivers to
``blog/signals.py`` without naming it go there too, and the rest (sending a signal,
disconnecting a receiver, a toggle) run in a script that then checks what the
tutorial says happens, in separate processes, on a SQLite file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import django
import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.rst"

#: Snippets without a file name that are more receivers of ``blog/signals.py``.
RECEIVER_SNIPPETS = (
    "def my_other_handler",
    "def my_custom_handler",
    "def invalidate_post_list",
    "def notify_followers",
)
#: Snippets that the script runs, by what they contain, and the ``ready()`` line
#: that section 6 deletes.
STATEMENT_SNIPPETS = {
    "send": "post_published.send(",
    "disconnect": "post_save.disconnect(",
    "toggle": '"RECEIVERS"',
    "ready": "def ready(self):",
}


def snippets() -> list[str]:
    """Every ``python`` code block of the tutorial, dedented, in order."""
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", TUTORIAL.read_text())
    return [textwrap.dedent(block).strip("\n") + "\n" for block in blocks]


def statement(name: str) -> str:
    [found] = [code for code in snippets() if STATEMENT_SNIPPETS[name] in code]
    return found


def project_files(version: tuple[int, int] = (5, 2)) -> dict[str, str]:
    """The files the snippets go into (``settings.py`` is appended to), by path,
    for a project of this Django version."""
    files: dict[str, str] = {}
    for code in snippets():
        if any(marker in code for marker in STATEMENT_SNIPPETS.values()):
            continue
        if "EMAIL_BACKEND" in code and version >= (6, 1):
            continue  # startproject configures MAILERS
        named = re.match(r"# ([\w/]+\.py)\b", code)
        if named:
            path = named.group(1)
        else:
            assert any(marker in code for marker in RECEIVER_SNIPPETS), code
            path = "blog/signals.py"
        files[path] = files.get(path, "") + "\n\n" + code
    return files


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py sets the project's
    env.pop("SIGNALKIT_TEST_DB", None)
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The project, migrated; and what ``migrate`` logged."""
    root = tmp_path_factory.mktemp("tutorial")
    run("-m", "django", "startproject", "mysite", ".", cwd=root)
    for app in ("blog", "accounts"):
        run("manage.py", "startapp", app, cwd=root)
    with (root / "mysite" / "settings.py").open("a") as settings:
        settings.write('\nINSTALLED_APPS += ["signalkit", "blog", "accounts"]\n')
    for path, code in project_files(django.VERSION[:2]).items():
        target = root / ("mysite/settings.py" if path == "settings.py" else path)
        if path == "settings.py":
            with target.open("a") as settings:
                settings.write(code)
        else:
            target.write_text(code)
    run("manage.py", "makemigrations", "blog", cwd=root)
    return root, run("manage.py", "migrate", cwd=root).stderr


SCRIPT = """
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_save
from django.test import override_settings

import signalkit
from blog.models import Comment, Post, Subscriber, Tag
from blog.signals import my_handler, post_published

cache.set("blog:post_list", ["stale"])
post = Post.objects.create(title="Hello World", body="First post")
print("slug:", post.slug, "cached:", cache.get("blog:post_list"))
post.tags.add(Tag.objects.create(name="django"))
Subscriber.objects.create(email="reader@example.com")

print("== send, in autocommit")
exec(SEND)
print("== send, in a transaction that rolls back")
try:
    with transaction.atomic():
        exec(SEND)
        raise RuntimeError
except RuntimeError:
    pass

print("== toggle")
settings = {}
exec(TOGGLE, settings)
with override_settings(SIGNALKIT=settings["SIGNALKIT"]):
    Post.objects.create(title="Toggled off")
Post.objects.create(title="Back on")

print("== disconnect")
exec(DISCONNECT)
Post.objects.create(title="Disconnected")

Comment.objects.create(post=post, body="Nice")
post.delete()
print("groups:", list(Group.objects.values_list("name", flat=True)))
"""


SHOW_MAILERS = """
from django.conf import settings

print(settings.MAILERS["default"]["BACKEND"])
"""


def interesting(lines: str) -> list[str]:
    """The lines the receivers print, without the e-mails' dates and ids."""
    keep = ("==", "slug:", "groups:", "New instance created:", "Custom signal", "Subject:", "To:")
    return [line for line in lines.splitlines() if line.startswith(keep)]


class TutorialProjectTests:
    def test_every_snippet_has_a_place(self) -> None:
        files = project_files()
        assert sorted(files) == [
            "accounts/signals.py",
            "blog/models.py",
            "blog/signals.py",
            "blog/tests.py",
            "settings.py",
        ]
        for name in STATEMENT_SNIPPETS:
            assert statement(name)

    def test_only_django_5_2_and_6_0_need_the_e_mail_backend(self) -> None:
        assert "EMAIL_BACKEND" in project_files((6, 0))["settings.py"]
        assert "EMAIL_BACKEND" not in project_files((6, 1))["settings.py"]

    @pytest.mark.skipif(django.VERSION < (6, 1), reason="MAILERS is new in Django 6.1")
    def test_a_new_projects_mailer_prints_on_the_console(self, project: tuple[Path, str]) -> None:
        root, _ = project
        result = run("manage.py", "shell", "-c", SHOW_MAILERS, cwd=root)
        assert result.stdout.splitlines()[-1] == "django.core.mail.backends.console.EmailBackend"

    def test_migrate_runs_the_migration_receivers(self, project: tuple[Path, str]) -> None:
        _, logged = project
        assert "Migrating blog on default: 0001_initial" in logged.splitlines()

    def test_the_receivers_do_what_the_tutorial_says(self, project: tuple[Path, str]) -> None:
        root, _ = project
        script = (
            f"SEND = {statement('send')!r}\nTOGGLE = {statement('toggle')!r}\n"
            f"DISCONNECT = {statement('disconnect')!r}\n{SCRIPT}"
        )
        result = run("manage.py", "shell", "-c", script, cwd=root)
        assert interesting(result.stdout) == [
            "New instance created: Hello World",
            "slug: hello-world cached: None",
            "== send, in autocommit",
            "Custom signal received",
            "Subject: New post: Hello World",
            "To: reader@example.com",
            "Custom signal received",
            "Subject: New post: Hello World",
            "To: reader@example.com",
            "== send, in a transaction that rolls back",
            "Custom signal received",
            "== toggle",
            "New instance created: Back on",
            "== disconnect",
            "groups: ['Editors']",
        ]
        post = re.search(r"Deleting Hello World \(#(\d+)\) and 1 comments", result.stderr)
        assert post, result.stderr
        assert "Tagged Hello World with [1]" in result.stderr.splitlines()

    def test_the_test_runs_without_the_receiver(self, project: tuple[Path, str]) -> None:
        root, _ = project
        result = run("manage.py", "test", "blog", "-v", "2", cwd=root)
        assert "test_create_sends_post_save (blog.tests.PostTests" in result.stderr
        assert "Ran 1 test" in result.stderr
        assert "New instance created" not in result.stdout
