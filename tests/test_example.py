"""Smoke tests of the example project, run in its own processes on a SQLite file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "example_project"
DOCS = EXAMPLE.parent / "docs"
TUTORIAL = DOCS / "tutorial.rst"
README = EXAMPLE.parent / "README.md"


@pytest.fixture(scope="module")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("example") / "db.sqlite3"
    manage("migrate", "--noinput", db=database)
    manage("demo_setup", db=database)
    return database


def manage(*args: str, db: Path, offload: bool = False, python: tuple[str, ...] = ()) -> str:
    env = {**os.environ, "EXAMPLE_DB": str(db), "DJANGO_SETTINGS_MODULE": "example.settings"}
    env["EXAMPLE_OFFLOAD"] = "1" if offload else ""
    env.pop("SIGNALKIT_TEST_DB", None)
    result = subprocess.run(
        [sys.executable, *python, "manage.py", *args],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


SCRIPT = """
from django.core import mail
from django.db import transaction
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()
from blog.models import Comment, Post

client = Client()
assert client.get("/").status_code == 200
post = Post.objects.create(title="Smoke test post", body="Hello")
assert post.slug == "smoke-test-post", post.slug
with transaction.atomic():
    post.publish()
    assert mail.outbox == [], "e-mailed before commit"
assert [message.subject for message in mail.outbox] == ["New post: Smoke test post"]
page = client.get("/").content.decode()
assert "Smoke test post" in page, "the cached list was not invalidated"
assert client.get(f"/posts/{post.pk}/").status_code == 200
Comment.objects.create(post=post, name="x", body="y")
response = client.post(
    "/signup/",
    {"username": "newcomer", "password1": "a-long-Passw0rd!", "password2": "a-long-Passw0rd!"},
)
assert response.status_code == 302, response.content
assert "Newcomer" in client.get("/profile/").content.decode()
print("ok")
"""


# The tutorial's receivers for pre_save, pre_delete and m2m_changed, run in the
# example project (whose own fill_slug is muted, to see the tutorial's at work).
TUTORIAL_RECEIVERS = """
import logging, sys, types

from signalkit.testing import mute_signals

module = types.ModuleType("blog.tutorial_signals")
sys.modules[module.__name__] = module
exec(compile(SNIPPET, "tutorial.rst", "exec"), module.__dict__)
logged = []
handler = logging.Handler()
handler.emit = lambda record: logged.append(record.getMessage())
logging.getLogger(module.__name__).addHandler(handler)
logging.getLogger(module.__name__).setLevel(logging.INFO)

from blog.models import Comment, Post, Tag

with mute_signals(receivers=["blog.signals.fill_slug"]):
    post = Post.objects.create(title="Tutorial post")
print(post.slug)
tag = Tag.objects.create(name="tutorial")
post.tags.add(tag)
Comment.objects.create(post=post, name="x", body="y")
pk = post.pk
post.delete()
print(pk, tag.pk)
for line in logged:
    print(line)
"""


def tutorial_snippet(containing: str) -> str:
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", TUTORIAL.read_text())
    [found] = [textwrap.dedent(block) for block in blocks if containing in block]
    return found


class ExampleProjectTests:
    def test_check_passes(self, example_db: Path) -> None:
        assert "no issues" in manage("check", db=example_db)

    def test_settings_use_nothing_deprecated(self, example_db: Path) -> None:
        # Django 6.1 deprecates EMAIL_BACKEND (for MAILERS) with a pending warning.
        out = manage("check", db=example_db, python=("-W", "error::PendingDeprecationWarning"))
        assert "no issues" in out

    def test_demo_setup_is_idempotent(self, example_db: Path) -> None:
        assert (
            manage("demo_setup", db=example_db) == "Every user has a profile: nothing to create.\n"
        )

    def test_fixture_saves_are_raw(self, example_db: Path) -> None:
        out = manage(
            "shell",
            "-c",
            "from blog.models import Post; print(Post.objects.get(pk=1).slug)",
            db=example_db,
        )
        assert out.splitlines()[-1] == ""

    def test_features_work_end_to_end(self, example_db: Path) -> None:
        assert manage("shell", "-c", SCRIPT, db=example_db).splitlines()[-1] == "ok"

    def test_the_listings_in_the_docs_are_what_it_prints(self, example_db: Path) -> None:
        # Line numbers included: they move whenever a receiver's module changes.
        docs = (EXAMPLE.parent / "docs" / "introspection.rst").read_text()
        for args, marker in (
            ((), "``manage.py listsignals`` in ``example_project/`` prints:"),
            (("--format", "mermaid", "post_published", "pre_save"), "ready for a GitHub"),
        ):
            assert manage("listsignals", *args, db=example_db) == block_after(docs, marker)

    def test_the_json_listing_in_the_docs_is_what_it_prints(self, example_db: Path) -> None:
        docs = (DOCS / "commands.rst").read_text()
        out = manage("listsignals", "--format", "json", "--app", "blog", "pre_save", db=example_db)
        assert json.loads(out) == json.loads(block_after(docs, "The JSON format\n"))

    def test_the_examples_of_the_docs_print_what_the_docs_show(self, example_db: Path) -> None:
        readme = README.read_text()
        [quickstart] = re.findall(r"## Quickstart\n\n```python\n(.*?)```", readme, re.DOTALL)
        audit = (DOCS / "audit.rst").read_text()
        custom = (DOCS / "custom-signals.rst").read_text()
        testing = (DOCS / "testing.rst").read_text()
        snippets = {
            "QUICKSTART": quickstart,
            "HISTORY": block_after(audit, "now records an event:"),
            "DEFINING": block_after(custom, "Defining\n"),
            "STRICT": block_after(custom, "naming both:"),
            "FAILING": block_after(testing, "is shown by its type:"),
        }
        code = "".join(f"{name} = {value!r}\n" for name, value in snippets.items())
        out = manage("shell", "-c", code + DOCS_EXAMPLES, db=example_db).splitlines()
        start = out.index("== quickstart")
        assert out[start:] == [
            "== quickstart",
            "== committing",
            "New post, safely committed: Committed",
            "== rolling back",
            "== history",
            "doctest: 0 of 5 failed",
            "== strict",
            one_line(snippets["STRICT"].splitlines()[1]),
            "== misspelt key",
            one_line(block_after(testing, "gives the key to use:")),
            "== not captured",
            one_line(block_after(testing, "not a failed assertion:")),
            "== failing assertion",
            one_line(block_after(testing, "created=False)\n\n")),
        ]

    def test_the_tutorials_pre_save_pre_delete_and_m2m_receivers(self, example_db: Path) -> None:
        code = f"SNIPPET = {tutorial_snippet('def tags_changed')!r}\n{TUTORIAL_RECEIVERS}"
        slug, keys, *logged = manage("shell", "-c", code, db=example_db).splitlines()[-4:]
        post, tag = keys.split()
        assert (slug, logged) == (
            "tutorial-post",
            [
                f"Tagged Tutorial post with [{tag}]",
                f"Deleting Tutorial post (#{post}) and 1 comments",
            ],
        )


# The examples of the README and the guides, run as written in the example project;
# what they raise is printed on one line, as the docs wrap it.
DOCS_EXAMPLES = """
import doctest, types

from django.db import transaction
from django.db.models.signals import post_save, pre_save

from blog.models import Post
from signalkit.testing import capture_signals, mute_signals


def show(error):
    print(" ".join(f"{type(error).__name__}: {error}".split()))


print("== quickstart")
quickstart = types.ModuleType("blog.quickstart")
exec(compile(QUICKSTART, "README.md", "exec"), quickstart.__dict__)
with transaction.atomic():
    Post.objects.create(title="Committed")
    print("== committing")
print("== rolling back")
try:
    with transaction.atomic():
        Post.objects.create(title="Rolled back")
        raise RuntimeError
except RuntimeError:
    pass
post_save.disconnect(quickstart.notify_followers, sender=Post)

print("== history")
test = doctest.DocTestParser().get_doctest(HISTORY, {"Post": Post}, "audit", "audit.rst", 0)
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
runner.run(test)
print(f"doctest: {runner.failures} of {runner.tries} failed")

print("== strict")
# Not put in sys.modules: the example's own blog.signals stays in place.
defining = types.ModuleType("blog.signals")
exec(compile(DEFINING, "custom-signals.rst", "exec"), defining.__dict__)
try:
    exec(STRICT.splitlines()[0].removeprefix(">>> "), {**vars(defining), "Post": Post, "post": Post()})
except TypeError as error:
    show(error)

print("== misspelt key")
try:
    with mute_signals(receivers=["blog.signals.notify_follwers"]):
        pass
except ValueError as error:
    show(error)

print("== not captured")
with capture_signals(post_save) as capture:
    pass
try:
    capture.assert_sent(pre_save)
except ValueError as error:
    show(error)

print("== failing assertion")
try:
    exec(FAILING, {"capture_signals": capture_signals, "post_save": post_save, "Post": Post})
except AssertionError as error:
    show(error)
"""


def one_line(text: str) -> str:
    return " ".join(text.split())


def block_after(text: str, marker: str) -> str:
    """The first ``code-block`` after ``marker`` in reStructuredText, dedented."""
    lines = text[text.index(marker) :].splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(".. code-block::")) + 2
    block = []
    for line in lines[start:]:
        if line and not line.startswith("   "):
            break
        block.append(line[3:])
    return "\n".join(block).rstrip("\n") + "\n"


OFFLOAD_SCRIPT = """
from blog.models import Post
from django_tasks_db.models import DBTaskResult

Post.objects.create(title="Queued post").publish()
print(DBTaskResult.objects.count())
"""


def test_notify_followers_runs_on_a_worker(tmp_path: Path) -> None:
    database = tmp_path / "offload.sqlite3"
    manage("migrate", "--noinput", db=database, offload=True)
    manage("demo_setup", db=database, offload=True)
    assert manage("shell", "-c", OFFLOAD_SCRIPT, db=database, offload=True).splitlines()[-1] == "1"
    out = manage("db_worker", "--batch", "--no-startup-delay", db=database, offload=True)
    assert "Subject: New post: Queued post" in out
