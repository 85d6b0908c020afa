"""Validation of the ``SIGNALKIT`` dict against its schema.

One walker serves two callers: the system checks (which report every problem,
naming the exact key path) and :mod:`signalkit.fallbacks` (which keeps only the
valid parts, so a bad value never crashes start-up).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from signalkit.validators import (
    DOTTED,
    MODEL_LABEL,
    Problem,
    Validator,
    choice,
    model_label,
    optional_dotted,
    path_of,
    receivers,
    string_list,
    type_of,
)

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

#: The options of one model in ``AUDIT["MODELS"]``.
MODEL_OPTIONS: dict[str, Validator] = {
    "exclude": string_list(None, "field names"),
    "mask": string_list(None, "field names or patterns"),
    "include": string_list(None, "field names"),
    # Names, never patterns: one "*token*" here would unmask every token field.
    "unmask": string_list(re.compile(r"[^*?\[\]\s]+\Z"), "a field name (not a pattern)"),
}


def _audit_models(value: object, keys: tuple[str, ...]) -> list[Problem]:
    if isinstance(value, list | tuple):
        problems = string_list(MODEL_LABEL, "a model label 'app_label.ModelName'")(value, keys)
        return problems
    if not isinstance(value, dict):
        return type_of(list, "a list of model labels or a dict of label -> options")(value, keys)
    problems = []
    for label, options in value.items():
        problems += model_label(label, (*keys, str(label)))
        if options is None:
            continue
        problems += _section(options, (*keys, str(label)), MODEL_OPTIONS)
    return problems


_PROFILE_SCHEMA: dict[str, Validator] = {
    "MODEL": model_label,
    "USER_FIELD": type_of(str, "a field name"),
    "DEFAULTS": optional_dotted,
}

_AUDIT_SCHEMA: dict[str, Validator] = {
    "MODELS": _audit_models,
    "EXCLUDE_FIELDS": string_list(None, "field names or patterns"),
    "MASK_FIELDS": string_list(None, "field names or patterns"),
    "AUTH_EVENTS": type_of(bool, "True or False"),
    "TRUSTED_PROXIES": string_list(None, "IP addresses or networks"),
    "ON_ERROR": choice("raise", "log"),
}

_OFFLOAD_SCHEMA: dict[str, Validator] = {
    "BACKEND": type_of(str, "a task backend alias"),
    "QUEUE_NAME": type_of(str, "a queue name"),
    "DELIVERY": choice("on_commit", "outbox"),
    "MISSING": choice("skip", "none", "fail"),
}


#: The schema of each section whose keys are merged one by one over their defaults.
SECTIONS: dict[str, dict[str, Validator]] = {"AUDIT": _AUDIT_SCHEMA, "OFFLOAD": _OFFLOAD_SCHEMA}


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


# A module name, not a file's: "signals.py" would name a module "py" inside
# "signals" (and import "signals" as a side effect of looking for it).
MODULE = re.compile(r"(?!.*\.py\Z)" + DOTTED.pattern)

SCHEMA: dict[str, Validator] = {
    "AUTODISCOVER": type_of(bool, "True or False"),
    "AUTODISCOVER_MODULES": string_list(MODULE, "a module name such as 'signals'"),
    "AUTODISCOVER_EXCLUDE": string_list(None, "app labels"),
    "RECEIVERS": receivers,
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
            # Compared in one case: "audit" is a typo of "AUDIT", "MASK" of "mask".
            folded = {name.casefold(): name for name in schema}
            close = [
                folded[match]
                for match in difflib.get_close_matches(str(key).casefold(), folded, n=1)
            ]
            nested = None if keys else nested_key(str(key))  # "AUDIT_MODELS", "MODELS"
            hint = (
                f"Did you mean {path_of(*nested)}?"
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


def nested_key(key: str) -> tuple[str, str] | None:
    """The section and key that a top-level ``key`` names (``"AUDIT_MODELS"``,
    ``"MODELS"``: ``("AUDIT", "MODELS")``), if any."""
    upper = key.upper()
    for section, schema in SECTIONS.items():
        inner = upper.removeprefix(section + "_")
        if inner in schema and (inner != upper or inner not in SCHEMA):
            return section, inner
    return None


def problems(value: object) -> list[Problem]:
    """Every problem in a ``SIGNALKIT`` value."""
    return _section(value, (), SCHEMA)


def section_problems(value: object, key: str) -> list[Problem]:
    """The problems of the top-level section ``key`` of a ``SIGNALKIT`` value (none if absent)."""
    if not isinstance(value, dict) or key not in value:
        return []
    return SCHEMA[key](value[key], (key,))
