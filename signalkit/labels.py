"""What to suggest for a name that is not what was expected: close matches, and
the label of an app named by its module or its ``INSTALLED_APPS`` entry."""

from __future__ import annotations

import difflib

from django.apps import apps

__all__ = ["close_matches", "unknown_app_hint"]


def close_matches(word: str, choices: list[str]) -> str:
    """``" Did you mean 'a', 'b'?"`` or an empty string."""
    matches = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not matches:
        return ""
    return f" Did you mean {', '.join(map(repr, matches))}?"


def unknown_app_hint(label: str) -> str:
    """What to write instead of ``label``, which is no installed app's label:
    the label of the app whose module (``"django.contrib.auth"``) or app config
    class (``"blog.apps.BlogConfig"``, as ``INSTALLED_APPS`` may list it) it
    names, else the closest labels (with a leading space), else ``""``."""
    configs = apps.get_app_configs()
    for config in configs:
        cls = type(config)
        if label in (config.name, f"{cls.__module__}.{cls.__qualname__}"):
            what = "module" if label == config.name else "app config"
            return f" It is the {what} of the app labelled {config.label!r}: use that."
    return close_matches(label, [config.label for config in configs])
