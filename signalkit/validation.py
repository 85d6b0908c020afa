"""Validation of the ``SIGNALKIT`` dict against its schema.

One walker serves two callers: the system checks (which report every problem,
naming the exact key path) and :func:`signalkit.conf.get_settings` (which keeps
only the valid parts, so a bad value never crashes start-up).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULTS: dict[str, Any] = {
    "AUTODISCOVER": True,
    "AUTODISCOVER_MODULES": ["signals"],
    "AUTODISCOVER_EXCLUDE": [],
    "RECEIVERS": {},
    "PROFILE": None,
    "AUDIT": {
        "MODELS": [],
        "EXCLUDE_FIELDS": ["last_login"],
        "MASK_FIELDS": ["*password*", "*token*", "*secret*", "*api_key*"],
        "AUTH_EVENTS": True,
        "TRUSTED_PROXIES": [],
        "ON_ERROR": "raise",
    },
    "OFFLOAD": {
        "BACKEND": "default",
        "QUEUE_NAME": "default",
        "DELIVERY": "on_commit",
        "MISSING": "skip",
    },
}

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_MODEL_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Problem:
    """One invalid part of the setting; ``kind`` selects the check ID."""

    kind: str  # "not_dict" | "unknown_key" | "wrong_type" | "bad_value"
    path: str
    message: str
    hint: str


#: The system check ID that reports each kind of :class:`Problem`.
CHECK_IDS = {
    "not_dict": "signalkit.E001",
    "unknown_key": "signalkit.E002",
    "wrong_type": "signalkit.E003",
    "bad_value": "signalkit.E004",
}


def path_of(*keys: str) -> str:
    return "SIGNALKIT" + "".join(f"[{key!r}]" for key in keys)


Validator = Callable[[object, tuple[str, ...]], list[Problem]]


def _type(expected: type | tuple[type, ...], label: str) -> Validator:
    def check(value: object, keys: tuple[str, ...]) -> list[Problem]:
        if isinstance(value, expected) and not (expected is not bool and isinstance(value, bool)):
            return []
        return [
            Problem(
                "wrong_type",
                path_of(*keys),
                f"{path_of(*keys)} is {value!r}, which is not {label}.",
                f"Set it to {label}.",
            )
        ]

    return check


def _string_list(pattern: re.Pattern[str] | None, what: str) -> Validator:
    def check(value: object, keys: tuple[str, ...]) -> list[Problem]:
        if not isinstance(value, list | tuple):
            return _type(list, "a list of strings")(value, keys)
        problems = []
        for index, item in enumerate(value):
            where = f"{path_of(*keys)}[{index}]"
            if not isinstance(item, str):
                problems.append(
                    Problem(
                        "wrong_type",
                        where,
                        f"{where} is {item!r}, which is not a string.",
                        f"Use {what} as strings.",
                    )
                )
            elif pattern is not None and not pattern.match(item):
                problems.append(
                    Problem(
                        "bad_value",
                        where,
                        f"{where} is {item!r}, which is not {what}.",
                        f"Use {what}.",
                    )
                )
        return problems

    return check


def _choice(*choices: str) -> Validator:
    def check(value: object, keys: tuple[str, ...]) -> list[Problem]:
        if value in choices:
            return []
        return [
            Problem(
                "bad_value",
                path_of(*keys),
                f"{path_of(*keys)} is {value!r}, which is not one of {', '.join(map(repr, choices))}.",
                f"Use one of {', '.join(map(repr, choices))}.",
            )
        ]

    return check


def _receivers(value: object, keys: tuple[str, ...]) -> list[Problem]:
    if not isinstance(value, dict):
        return _type(dict, "a dict of receiver key -> bool")(value, keys)
    problems = []
    for key, enabled in value.items():
        where = path_of(*keys, str(key))
        if not isinstance(key, str):
            problems.append(
                Problem(
                    "wrong_type",
                    where,
                    f"{path_of(*keys)} has the key {key!r}, which is not a string.",
                    "Use receiver keys such as 'blog.signals.notify_followers'.",
                )
            )
        elif not isinstance(enabled, bool):
            problems.append(
                Problem(
                    "wrong_type",
                    where,
                    f"{where} is {enabled!r}, which is not True or False.",
                    "Use False to switch the receiver off, True (or leave it out) to keep it.",
                )
            )
    return problems


def _optional_dotted(value: object, keys: tuple[str, ...]) -> list[Problem]:
    if value is None:
        return []
    if isinstance(value, str) and _DOTTED.match(value):
        return []
    return [
        Problem(
            "wrong_type" if not isinstance(value, str) else "bad_value",
            path_of(*keys),
            f"{path_of(*keys)} is {value!r}, which is not None or a dotted path.",
            "Use the dotted path of a callable, such as 'accounts.profiles.defaults'.",
        )
    ]


def _model_label(value: object, keys: tuple[str, ...]) -> list[Problem]:
    if isinstance(value, str) and _MODEL_LABEL.match(value):
        return []
    return [
        Problem(
            "wrong_type" if not isinstance(value, str) else "bad_value",
            path_of(*keys),
            f"{path_of(*keys)} is {value!r}, which is not a model label.",
            "Use 'app_label.ModelName'.",
        )
    ]


_AUDIT_MODEL_OPTIONS: dict[str, Validator] = {
    "exclude": _string_list(None, "field names"),
    "mask": _string_list(None, "field names or patterns"),
    "include": _string_list(None, "field names"),
    # Names, never patterns: one "*token*" here would unmask every token field.
    "unmask": _string_list(re.compile(r"[^*?\[\]\s]+\Z"), "a field name (not a pattern)"),
}


def _audit_models(value: object, keys: tuple[str, ...]) -> list[Problem]:
    if isinstance(value, list | tuple):
        problems = _string_list(_MODEL_LABEL, "a model label 'app_label.ModelName'")(value, keys)
        return problems
    if not isinstance(value, dict):
        return _type(list, "a list of model labels or a dict of label -> options")(value, keys)
    problems = []
    for label, options in value.items():
        problems += _model_label(label, (*keys, str(label)))
        if options is None:
            continue
        problems += _section(options, (*keys, str(label)), _AUDIT_MODEL_OPTIONS)
    return problems


_PROFILE_SCHEMA: dict[str, Validator] = {
    "MODEL": _model_label,
    "USER_FIELD": _type(str, "a field name"),
    "DEFAULTS": _optional_dotted,
}

_AUDIT_SCHEMA: dict[str, Validator] = {
    "MODELS": _audit_models,
    "EXCLUDE_FIELDS": _string_list(None, "field names or patterns"),
    "MASK_FIELDS": _string_list(None, "field names or patterns"),
    "AUTH_EVENTS": _type(bool, "True or False"),
    "TRUSTED_PROXIES": _string_list(None, "IP addresses or networks"),
    "ON_ERROR": _choice("raise", "log"),
}

_OFFLOAD_SCHEMA: dict[str, Validator] = {
    "BACKEND": _type(str, "a task backend alias"),
    "QUEUE_NAME": _type(str, "a queue name"),
    "DELIVERY": _choice("on_commit", "outbox"),
    "MISSING": _choice("skip", "none", "fail"),
}


def _optional_section(schema: dict[str, Validator], required: tuple[str, ...] = ()) -> Validator:
    def check(value: object, keys: tuple[str, ...]) -> list[Problem]:
        if value is None:
            return []
        problems = _section(value, keys, schema)
        if isinstance(value, dict):
            for name in required:
                if name not in value:
                    problems.append(
                        Problem(
                            "bad_value",
                            path_of(*keys),
                            f"{path_of(*keys)} has no {name!r} key.",
                            f"Add {name!r}, or set {path_of(*keys)} to None.",
                        )
                    )
        return problems

    return check


SCHEMA: dict[str, Validator] = {
    "AUTODISCOVER": _type(bool, "True or False"),
    "AUTODISCOVER_MODULES": _string_list(_DOTTED, "a module name such as 'signals'"),
    "AUTODISCOVER_EXCLUDE": _string_list(None, "app labels"),
    "RECEIVERS": _receivers,
    "PROFILE": _optional_section(_PROFILE_SCHEMA, required=("MODEL",)),
    "AUDIT": _optional_section(_AUDIT_SCHEMA),
    "OFFLOAD": _optional_section(_OFFLOAD_SCHEMA),
}


def _section(value: object, keys: tuple[str, ...], schema: dict[str, Validator]) -> list[Problem]:
    if not isinstance(value, dict):
        where = path_of(*keys) if keys else "SIGNALKIT"
        return [
            Problem(
                "not_dict" if not keys else "wrong_type",
                where,
                f"{where} is {value!r}, which is not a dict.",
                "Use a dict; see the settings reference for its keys.",
            )
        ]
    problems = []
    for key, item in value.items():
        if key not in schema:
            close = difflib.get_close_matches(str(key), schema, n=1)
            nested = None if keys else _nested(str(key))  # "AUDIT_MODELS", "MODELS"
            hint = (
                f"Did you mean {nested}?"
                if nested
                else f"Did you mean {close[0]!r}?"
                if close
                else f"Known keys: {', '.join(schema)}."
            )
            problems.append(
                Problem(
                    "unknown_key",
                    path_of(*keys, str(key)),
                    f"{path_of(*keys)} has an unknown key {key!r}.",
                    hint,
                )
            )
            continue
        problems += schema[key](item, (*keys, key))
    return problems


def _nested(key: str) -> str | None:
    """The path of a section's key that a top-level ``key`` names, if any."""
    upper = key.upper()
    for section, schema in (("AUDIT", _AUDIT_SCHEMA), ("OFFLOAD", _OFFLOAD_SCHEMA)):
        inner = upper.removeprefix(section + "_")
        if inner in schema and (inner != upper or inner not in SCHEMA):
            return path_of(section, inner)
    return None


def problems(value: object) -> list[Problem]:
    """Every problem in a ``SIGNALKIT`` value."""
    return _section(value, (), SCHEMA)


def section_problems(value: object, key: str) -> list[Problem]:
    """The problems of the top-level section ``key`` of a ``SIGNALKIT`` value (none if absent)."""
    if not isinstance(value, dict) or key not in value:
        return []
    return SCHEMA[key](value[key], (key,))


def valid_subset(value: object) -> dict[str, Any]:
    """The top-level keys (and section keys) of ``value`` that have no problem."""
    if not isinstance(value, dict):
        return {}
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key not in SCHEMA:
            continue
        if key in ("AUDIT", "OFFLOAD") and isinstance(item, dict):
            sub = _AUDIT_SCHEMA if key == "AUDIT" else _OFFLOAD_SCHEMA
            result[key] = {k: v for k, v in item.items() if k in sub and not sub[k](v, (key, k))}
            if key == "AUDIT" and "MODELS" in item and "MODELS" not in result[key]:
                # One bad entry must not switch the whole audit log off (checks
                # do not run under every server): keep the entries that are valid.
                result[key]["MODELS"] = _valid_models(item["MODELS"])
        elif not SCHEMA[key](item, (key,)):
            result[key] = item
        elif key == "RECEIVERS" and isinstance(item, dict):
            # One bad entry must not switch every other receiver back on (checks
            # do not run under every server): keep the entries that are valid.
            result[key] = {
                name: enabled
                for name, enabled in item.items()
                if not _receivers({name: enabled}, (key,))
            }
    return result


def _valid_models(models: object) -> dict[str, Any] | list[str]:
    """The entries of an invalid ``AUDIT["MODELS"]`` value that are valid alone."""
    check = _AUDIT_SCHEMA["MODELS"]
    path = ("AUDIT", "MODELS")
    if isinstance(models, dict):
        return {
            label: options for label, options in models.items() if not check({label: options}, path)
        }
    if isinstance(models, list | tuple):
        return [label for label in models if not check([label], path)]
    return []
