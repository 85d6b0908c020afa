"""Time of ``manage.py createprofiles`` on 10,000 users without a profile (SQLite).

Run with ``make bench``; the target is 3 seconds.
"""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

USERS = 10_000
TARGET_SECONDS = 3.0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "defaults",
    [None, "tests.profilesapp.defaults.profile_defaults"],
    ids=["no-defaults", "with-defaults"],
)
def test_createprofiles_on_10k_users(defaults: str | None) -> None:
    model = "profilesapp.Preferences" if defaults is None else "profilesapp.Profile"
    User.objects.bulk_create([User(username=f"bench{n}", password="!") for n in range(USERS)])
    out = StringIO()
    with (
        override_settings(SIGNALKIT={"PROFILE": {"MODEL": model, "DEFAULTS": defaults}}),
        CaptureQueriesContext(connection) as queries,
    ):
        start = time.perf_counter()
        call_command("createprofiles", stdout=out)
        elapsed = time.perf_counter() - start
    assert out.getvalue() == f"Created {USERS} profiles.\n"
    verdict = "ok" if elapsed <= TARGET_SECONDS else "MISSED"
    print(
        f"\ncreateprofiles, {USERS} users, {model} ({connection.vendor}): "
        f"{elapsed:.2f}s, {len(queries)} queries (target {TARGET_SECONDS:.0f}s: {verdict})"
    )
