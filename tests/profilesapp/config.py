"""The ``SIGNALKIT`` settings the profile tests run under."""

from __future__ import annotations

from typing import Any

PROFILE: dict[str, Any] = {
    "MODEL": "profilesapp.Profile",
    "USER_FIELD": "user",
    "DEFAULTS": "tests.profilesapp.defaults.profile_defaults",
}


def signalkit(**profile: Any) -> dict[str, Any]:
    """``SIGNALKIT`` with ``PROFILE`` (the tests' default, updated by ``profile``)."""
    return {"PROFILE": {**PROFILE, **profile}}
