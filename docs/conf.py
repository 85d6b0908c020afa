"""Sphinx configuration for the signalkit documentation."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

project = "signalkit"
author = "The signalkit developers"
copyright = "2026, The signalkit developers"
release = version = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
]
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
autodoc_typehints = "description"
html_theme = "furo"
html_title = "signalkit"
exclude_patterns = ["_build"]
nitpicky = False
