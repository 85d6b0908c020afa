from __future__ import annotations

from tests.discovery import imports

imports.append(__name__)
