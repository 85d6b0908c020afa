"""What applies in place of an invalid ``SIGNALKIT`` value, and the note that says so.

The system checks report every invalid value, but ``ready()`` must not crash
and not every server runs the checks. :func:`usable` keeps what can apply and,
for each value it cannot take as written, a note naming the exact key and what
applies instead; :func:`signalkit.conf.get_settings` logs the notes, once per
change of the setting. What is put in place of a value fails closed: the names
given to a mask or an exclude still apply, an audited model stays audited, and
nothing is recorded in clear because of a mistake.
"""

from __future__ import annotations

import difflib
from typing import Any

from signalkit.validation import DEFAULTS, MODEL_OPTIONS, SCHEMA, SECTIONS, nested_key
from signalkit.validators import path_of, receivers, shown

# Keys whose invalid value still gives the names it holds: masks and excludes
# must not record in clear what they name, and autodiscovery runs in ready(),
# before any check (the default would import the modules of the apps that the
# project excluded, often because they crash).
_NAMES = frozenset(
    {"AUTODISCOVER_MODULES", "AUTODISCOVER_EXCLUDE", "MASK_FIELDS", "EXCLUDE_FIELDS"}
)

# What a misspelt model option is taken for. "unmask" comes first, as a
# misspelt unmask ("Unmask", "unmasks") is never applied: it could only record
# more in clear.
_OPTIONS = ("unmask", "mask", "exclude", "include")


def usable(value: object) -> tuple[dict[str, Any], list[str]]:
    """The parts of a ``SIGNALKIT`` value that apply (merged over the defaults by
    the caller), and a note for each invalid part saying what applies instead.

    An invalid ``PROFILE`` is left out without a note: it is not used at all,
    and the code that needs it raises with its problems.
    """
    notes: list[str] = []
    if not isinstance(value, dict):
        notes.append(f"SIGNALKIT is {shown(value)}, which is not a dict: the defaults apply")
        return {}, notes
    result: dict[str, Any] = {}
    misplaced: list[tuple[str, list[str]]] = []
    for key, item in value.items():
        if key not in SCHEMA:
            target = _misplaced(key)
            if target is None:
                notes.append(f"SIGNALKIT has an unknown key {key!r}, which is ignored")
                continue
            misplaced.append((target, _strings(item)))
            where = path_of("AUDIT", target)
            notes.append(f"SIGNALKIT has an unknown key {key!r}: its names are applied as {where}")
        elif key in SECTIONS and isinstance(item, dict):
            result[key] = _section(key, item, notes)
        elif not SCHEMA[key](item, (key,)):
            result[key] = item
        elif key != "PROFILE":
            _replace(result, (key,), item, notes)
    if misplaced:  # (after the loop: "AUDIT" may come after them)
        audit = result["AUDIT"] = dict(result.get("AUDIT") or {})
        for target, names in misplaced:
            audit[target] = [*audit.get(target, ()), *names]
    return result, notes


def _misplaced(key: object) -> str | None:
    """The ``AUDIT`` key that an unknown top-level ``key`` names (as the check's
    hint does), if it is a mask or an exclude (``"MASK_FIELDS"``,
    ``"AUDIT_EXCLUDE_FIELDS"``): as a misspelt key in ``AUDIT``, it must not
    record what it names in clear."""
    found = nested_key(str(key))
    return found[1] if found and found[1] in ("MASK_FIELDS", "EXCLUDE_FIELDS") else None


def _section(name: str, value: dict[Any, Any], notes: list[str]) -> dict[str, Any]:
    schema = SECTIONS[name]
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key not in schema:
            continue
        if not schema[key](item, (name, key)):
            result[key] = item
        elif key == "MODELS":
            result[key] = _models(item, notes)
        else:
            _replace(result, (name, key), item, notes)
    for key, item in value.items():  # (after the keys they add to)
        if key in schema:
            continue
        target = _looks_like(key, ("MASK_FIELDS", "EXCLUDE_FIELDS")) if name == "AUDIT" else None
        if target is None:
            notes.append(f"{path_of(name)} has an unknown key {key!r}, which is ignored")
            continue
        # A typo ("MASK_FIELD", "mask_fields") must not record what it names in clear.
        result[target] = [*result.get(target, ()), *_strings(item)]
        notes.append(
            f"{path_of(name)} has an unknown key {key!r}: its names are applied as {target}"
        )
    return result


def _replace(
    result: dict[str, Any], keys: tuple[str, ...], value: object, notes: list[str]
) -> None:
    """Put what applies instead of the invalid ``value`` at ``keys`` in ``result``."""
    key = keys[-1]
    if key == "RECEIVERS" and isinstance(value, dict):
        # One bad toggle must not switch every other receiver back on.
        result[key] = {name: on for name, on in value.items() if not receivers({name: on}, keys)}
        dropped = [repr(name) for name in value if name not in result[key]]
        verb = "is" if len(dropped) == 1 else "are"
        notes.append(
            f"{path_of(*keys)} {', '.join(dropped)} {verb} invalid and ignored (not a "
            "receiver key mapped to True or False)"
        )
        return
    schema = SECTIONS[keys[0]] if len(keys) == 2 else SCHEMA
    kept = _strings(value) if key in _NAMES else []
    kept = [name for name in kept if not schema[key]([name], keys)]
    if kept:
        result[key] = kept
        notes.append(_note(keys, value, f"the names {kept!r} in it apply"))
        return
    default = DEFAULTS[keys[0]][key] if len(keys) == 2 else DEFAULTS[key]
    used = (
        "the defaults of its keys apply" if key in SECTIONS else f"the default {default!r} applies"
    )
    notes.append(_note(keys, value, used))


def _models(models: object, notes: list[str]) -> dict[str, Any] | list[str]:
    """What applies of an invalid ``AUDIT["MODELS"]``: each valid label, with options
    made safe. Labels left out are logged when the audit receivers connect."""
    check = SECTIONS["AUDIT"]["MODELS"]
    path = ("AUDIT", "MODELS")
    if isinstance(models, dict):
        return {
            label: _options(label, options, notes)
            for label, options in models.items()
            if not check({label: None}, path)
        }
    if isinstance(models, str | set | frozenset):
        # ("blog.Post") without its comma, or a set: the valid labels it holds
        # are audited. An invalid one ("a.B, c.D") is not said to be: it is
        # logged as left out when the receivers connect.
        labels = [label for label in _strings(models) if not check([label], path)]
        if labels:
            one = isinstance(models, str)
            used = "it is audited as one label" if one else "the labels in it are audited"
            notes.append(_note(path, models, used))
        return labels
    if isinstance(models, list | tuple):
        return [label for label in models if not check([label], path)]
    notes.append(_note(path, models, "no model is audited"))
    return []


def _options(label: str, options: object, notes: list[str]) -> dict[str, list[str]]:
    """The options of one audited model as they apply. An invalid option never
    leaves the model out of the log (which would fail open), and never records
    more than a valid one could: what cannot be read masks every field."""
    keys = ("AUDIT", "MODELS", label)
    everything = f"every field of {label} is masked"
    if options is None:
        return {}
    if not isinstance(options, dict):
        notes.append(_note(keys, options, everything))
        return {"mask": ["*"]}
    result: dict[str, list[str]] = {}
    for name, value in options.items():
        where = (*keys, str(name))
        if name in MODEL_OPTIONS and not MODEL_OPTIONS[name](value, where):
            result[name] = [*result.get(name, ()), *value]
            continue
        option = name if name in MODEL_OPTIONS else _looks_like(name, _OPTIONS)
        names = _names(value)
        if option == "unmask":
            ignored = "it is ignored, so the masks apply to the fields it names"
            notes.append(
                _note(where, value, ignored)
                if name == option
                else f"{path_of(*keys)} has an unknown key {name!r}: {ignored}"
            )
            continue
        if option is None or names is None:
            option, names = "mask", ["*"]
            used = everything
        else:
            used = f"the names {names!r} in it apply" + (
                f" as {option!r}" if option != name else ""
            )
        result[option] = [*result.get(option, ()), *names]
        notes.append(
            _note(where, value, used)
            if name in MODEL_OPTIONS
            else f"{path_of(*keys)} has an unknown key {name!r}: {used}"
        )
    return result


def _note(keys: tuple[str, ...], value: object, used: str) -> str:
    return f"{path_of(*keys)} is {shown(value)}, which is invalid: {used}"


def _looks_like(key: object, names: tuple[str, ...]) -> str | None:
    """The one of ``names`` that the unknown ``key`` looks like a misspelling of
    (the same first four letters, or close), compared in one case."""
    upper = str(key).upper()
    for name in names:
        # The name itself first: "MASK" is as close to "UNMASK" as the
        # cutoff, and taken for an unmask it would be ignored (fail open).
        if upper == name.upper():
            return name
    for name in names:
        stem = name.upper().partition("_")[0][:4]  # "MASK", "EXCL", "UNMA"
        if upper.startswith(stem) or difflib.get_close_matches(upper, [name.upper()], cutoff=0.8):
            return name
    return None


def _strings(names: object) -> list[str]:
    """The strings of a value meant as a list of names (a lone string is one)."""
    if isinstance(names, str):
        return [names]
    if isinstance(names, list | tuple):
        return [name for name in names if isinstance(name, str)]
    if isinstance(names, set | frozenset):
        # A set is the likeliest collection written instead of a list.
        return sorted(name for name in names if isinstance(name, str))
    return []


def _names(value: object) -> list[str] | None:
    """The names of a model option, or ``None`` if any part of it is not a name."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set | frozenset) and all(
        isinstance(name, str) for name in value
    ):
        return _strings(value)
    return None
