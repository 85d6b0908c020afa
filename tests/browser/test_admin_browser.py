"""A real browser against the example project: the admin pages work.

Needs Chromium (Debian's ``chromium`` package) and Playwright; ``.ci/run`` provides
both. Not part of ``make test``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {
        **os.environ,
        "EXAMPLE_DB": str(tmp_path_factory.mktemp("browser") / "db.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "example.settings",
    }
    for command in (["migrate", "--noinput"], ["demo_setup"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=EXAMPLE, env=env, check=True)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=EXAMPLE,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_admin_creates_a_post_and_shows_its_audit_history(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.goto(f"{server}/admin/login/")
            page.fill("#id_username", "admin")
            page.fill("#id_password", "admin")
            page.click("input[type=submit]")
            page.goto(f"{server}/admin/blog/post/add/")
            page.fill("#id_title", "Written in a real browser")
            page.click("input[name=_save]")
            page.wait_for_selector("text=was added successfully")
            page.click("text=Written in a real browser")
            assert page.input_value("#id_slug") == "written-in-a-real-browser"
            # signalkit's audit history of the post: one "create" event, by admin.
            page.click("text=Audit history")
            page.wait_for_selector("#audit-history")
            rows = page.locator("#audit-history tbody tr")
            assert rows.count() == 1
            row = rows.first.inner_text()
            assert "create" in row
            assert "admin" in row
            assert "Written in a real browser" in row
        finally:
            browser.close()
