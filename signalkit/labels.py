"""What to suggest for a name that is not what was expected: close matches, and
the label of an app named by its module or its ``INSTALLED_APPS`` entry."""

from __future__ import annotations

import difflib

from django.apps import AppConfig, apps

__all__ = ["app_names", "close_matches", "unknown_app_hint"]


def close_matches(word: str, choices: list[str]) -> str:
    """``" Did you mean 'a', 'b'?"`` or an empty string."""
    matches = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not matches:
        return ""
    return f" Did you mean {', '.join(map(repr, matches))}?"


def app_names(config: AppConfig) -> dict[str, str]:
    """The names other than its label that an app is known by, each with what it
    is: its module path (as ``INSTALLED_APPS`` gives it), its package and its
    ``AppConfig`` path."""
    names = {config.name.rpartition(".")[2]: "package", config.name: "module"}
    cls = type(config)
    if cls is not AppConfig:
        names[f"{cls.__module__}.{cls.__qualname__}"] = "app config"
    names.pop(config.label, None)
    return names


def unknown_app_hint(label: str) -> str:
    """What to write instead of ``label``, which is no installed app's label:
    the label of the app whose module (``"django.contrib.auth"``), package or
    app config class (``"blog.apps.BlogConfig"``, as ``INSTALLED_APPS`` may list
    it) it names, else the closest labels (with a leading space), else ``""``."""
    configs = apps.get_app_configs()
    for config in configs:
        what = app_names(config).get(label)
        if what is not None:
            return f" It is the {what} of the app labelled {config.label!r}: use that."
    return close_matches(label, [config.label for config in configs])
