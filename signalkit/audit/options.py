"""What a model's audit options (``include``, ``exclude``, ``mask``, ``unmask``)
and ``MASK_FIELDS`` select: field names matched as fnmatch patterns."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from django.db.models import Model

    from signalkit.conf import AuditSettings

# The options a model shares with its listed proxies and multi-table children.
SHARED = ("mask", "exclude", "unmask")

Options = dict[str, list[str]]


def matches(name: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """Whether a field name matches one of the fnmatch ``patterns`` (case-insensitive)."""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)


def names(field: Any) -> tuple[str, ...]:
    """The names an option may give a field by: its name and, for a foreign key,
    its column's attname too (``"owner_id"``, as ``only()`` and ``update_fields``
    accept it)."""
    attname = getattr(field, "attname", field.name)
    return (field.name,) if attname == field.name else (field.name, attname)


def field_matches(field: Any, patterns: tuple[str, ...] | list[str]) -> bool:
    """Whether a field's name matches one of the ``patterns``, or its attname is
    one of them written out (a pattern such as ``"*_id"`` keeps meaning fields
    so named, not every foreign key)."""
    if matches(field.name, patterns):
        return True
    attname = getattr(field, "attname", field.name)
    return attname != field.name and any(pattern.lower() == attname.lower() for pattern in patterns)


def masker(audit: AuditSettings, options: Mapping[str, Any]) -> Callable[[Any], bool]:
    """Whether a field is masked under a model's (inherited) options."""
    own_mask = options.get("mask", ())
    unmasked = {name.lower() for name in options.get("unmask", ())}

    def masked(field: Any) -> bool:
        # The model's own masks always apply; MASK_FIELDS (and its defaults)
        # spare the fields the model names in ``unmask``.
        if field_matches(field, own_mask):
            return True
        return not unmasked.intersection(name.lower() for name in names(field)) and (
            field_matches(field, audit.mask_fields)
        )

    return masked


def key_masked(
    field: Any, audit: AuditSettings, shared: dict[type[Model], Options], *, primary: bool = False
) -> bool:
    """Whether a key holds a masked value: a foreign key (or a ``through``
    model's) whose ``to_field`` is a field its model masks, audited or not (an
    ``api_key``), would otherwise record the secret as the key; so would a key
    to a field that is itself such a key. A key to a primary key is recorded in
    clear anyway (``object_pk``), unless ``primary``: whether a masked primary
    key is what it holds (signalkit.W028)."""
    seen: set[Any] = set()
    while field.is_relation and (field.many_to_one or field.one_to_one) and field not in seen:
        seen.add(field)
        target = field.target_field
        if target.primary_key and not primary:
            return False
        if primary and target.is_relation:
            # A parent's own link (a grandchild's key holds the grandparent's):
            # judged by what it holds in turn, not by its name.
            field = target
            continue
        if masker(audit, inherited(concrete(target.model), shared))(target):
            return True
        field = target
    return False


def inherited(concrete: type[Model], shared: dict[type[Model], Options]) -> Options:
    """The masks, excludes and unmasks of a concrete model's family and of its
    listed multi-table parents (a child's events carry the parents' fields too),
    and the masks of its listed multi-table children: their rows are its rows
    too, which its own events (a child's delete, a save through the parent
    class) carry."""
    lineage = [concrete, *concrete._meta.get_parent_list()]
    found = {
        option: [name for model in lineage for name in shared.get(model, {}).get(option, ())]
        for option in SHARED
    }
    for child, options in shared.items():
        if child is not concrete and concrete in child._meta.get_parent_list():
            found["mask"] += options["mask"]
    return found


def merged(one: Options, other: Options) -> Options:
    """The options of two entries of one model: every name of both (an entry
    without ``include`` records every field, so then neither limits them)."""
    both = {option: [*one.get(option, ()), *other.get(option, ())] for option in SHARED}
    if "include" in one and "include" in other:
        both["include"] = [*one["include"], *other["include"]]
    return both


def concrete(model: type[Model]) -> type[Model]:
    return model._meta.concrete_model or model
