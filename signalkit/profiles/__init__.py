"""User profiles created for every user: on sign-up, on demand, and by backfill.

Configured by ``SIGNALKIT['PROFILE']``; see ``docs/profiles.rst``.
"""

from __future__ import annotations

from signalkit.profiles.ensure import aget_profile, get_profile

__all__ = ["aget_profile", "get_profile"]
