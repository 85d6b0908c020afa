"""The building blocks of the ``SIGNALKIT`` schema: :class:`Problem` and the
validators of single values, each naming the exact key path it checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise

# "\Z", not "$": "$" also matches before a final newline, and a module name
# read with its newline ("signals\n") would pass, then import nothing.
DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
MODEL_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*\Z")


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


def shown(value: object) -> str:
    """``repr(value)``, saying so when it is a lazy string (whose repr is its text's)."""
    return f"{value!r} (a lazy string)" if isinstance(value, Promise) else repr(value)


def path_of(*keys: str) -> str:
    return "SIGNALKIT" + "".join(f"[{key!r}]" for key in keys)


Validator = Callable[[object, tuple[str, ...]], list[Problem]]


def type_of(expected: type | tuple[type, ...], label: str) -> Validator:
    def check(value: object, keys: tuple[str, ...]) -> list[Problem]:
        if isinstance(value, expected) and not (expected is not bool and isinstance(value, bool)):
            return []
        return [
            Problem(
                "wrong_type",
                path_of(*keys),
                f"{path_of(*keys)} is {shown(value)}, which is not {label}.",
                f"Set it to {label}.",
            )
        ]

    return check


def string_list(pattern: re.Pattern[str] | None, what: str) -> Validator:
    def check(value: object, keys: tuple[str, ...]) -> list[Problem]:
        if not isinstance(value, list | tuple):
            return type_of(list, "a list of strings")(value, keys)
        problems = []
        for index, item in enumerate(value):
            where = f"{path_of(*keys)}[{index}]"
            if not isinstance(item, str):
                problems.append(
                    Problem(
                        "wrong_type",
                        where,
                        f"{where} is {shown(item)}, which is not a string.",
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


def choice(*choices: str) -> Validator:
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


def receivers(value: object, keys: tuple[str, ...]) -> list[Problem]:
    if not isinstance(value, dict):
        return type_of(dict, "a dict of receiver key -> bool")(value, keys)
    problems = []
    for key, enabled in value.items():
        where = path_of(*keys, str(key))
        if not isinstance(key, str):
            problems.append(
                Problem(
                    "wrong_type",
                    where,
                    f"{path_of(*keys)} has the key {shown(key)}, which is not a string.",
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


def matching(
    pattern: re.Pattern[str], label: str, hint: str, *, optional: bool = False
) -> Validator:
    """A string that ``pattern`` matches (or None, if ``optional``)."""

    def check(value: object, keys: tuple[str, ...]) -> list[Problem]:
        if (optional and value is None) or (isinstance(value, str) and pattern.match(value)):
            return []
        return [
            Problem(
                "wrong_type" if not isinstance(value, str) else "bad_value",
                path_of(*keys),
                f"{path_of(*keys)} is {shown(value)}, which is not {label}.",
                hint,
            )
        ]

    return check


optional_dotted = matching(
    DOTTED,
    "None or a dotted path",
    "Use the dotted path of a callable, such as 'accounts.profiles.defaults'.",
    optional=True,
)
model_label = matching(MODEL_LABEL, "a model label", "Use 'app_label.ModelName'.")
