"""``SIGNALKIT["PROFILE"]["DEFAULTS"]``: the values of a new user's profile."""

from __future__ import annotations

from typing import Any


def defaults(user: Any) -> dict[str, Any]:
    return {"display_name": user.get_username().title()}
