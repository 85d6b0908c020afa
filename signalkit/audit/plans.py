"""Which models and fields are audited: plans built from ``SIGNALKIT["AUDIT"]``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import django
from django.apps import apps
from django.db.models import FileField

from signalkit.audit import columns
from signalkit.audit import options as named
from signalkit.audit.encoders import FieldPlan
from signalkit.audit.rowkeys import key_attnames, key_of, row_attnames

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from django.db.models import Model

    from signalkit.conf import AuditSettings

# Fields whose values the program may change in place (``obj.data["k"] = 1``,
# ``obj.blob[0] = 1`` on a bytearray): snapshots keep copies of them.
_MUTABLE_TYPES = frozenset({"JSONField", "ArrayField", "HStoreField", "BinaryField"})


@dataclass(frozen=True)
class M2MPlan:
    """One audited many-to-many field, seen from its ``through`` model."""

    name: str
    masked: bool
    model: type[Model]  # the concrete model that declares the field
    through: type[Model]
    source: str  # through attname pointing at ``model``
    target: str  # through attname pointing at the related model
    # The fields the through model's keys hold (the primary keys, or ``to_field``).
    source_key: str  # in ``model``
    target_key: str  # in the related model
    # A symmetrical relation to the same model: Django changes both directions
    # and signals one.
    symmetrical: bool = False


@dataclass(frozen=True)
class ModelPlan:
    label: str  # the concrete model's label: proxies share their history
    fields: tuple[FieldPlan, ...]
    # What snapshots hold: every field but, on Django 5.2, generated ones, whose
    # values Django leaves stale on the instance after an update (recorded on
    # create only).
    attnames: tuple[str, ...]
    # Snapshot copies: JSON values, bytearrays, custom fields' values, files by name.
    mutable: frozenset[str]
    m2m: tuple[M2MPlan, ...]
    # (name, attname, JSON encoder) per field: what the receivers loop over.
    encoders: tuple[tuple[str, str, Callable[[Any], Any]], ...] = ()
    # JSON values: 1, 1.0 and True are equal in Python, not in the column.
    strict: frozenset[str] = frozenset()
    # attname -> the field's get_prep_value (what the column is given; for a
    # JSON field with an encoder of its own, what the encoder writes): a value
    # assigned as text ("1.5", "3") that is prepared as the old one is no change.
    converters: Mapping[str, Callable[[Any], Any]] = dataclasses.field(default_factory=dict)
    # attname -> the type whose values the column keeps as they are (see
    # columns.exact()): two values of it are compared without converting them.
    exact: Mapping[str, type] = dataclasses.field(default_factory=dict)
    # GeneratedFields: the database computes them; Django may leave them unloaded.
    generated: frozenset[str] = frozenset()
    # What snapshots hold (``attnames``), as a set.
    tracked: frozenset[str] = frozenset()
    # The attnames of the primary key's fields: one, or those a
    # CompositePrimaryKey names (its own attname, "pk", is no instance value).
    keys: tuple[str, ...] = ("id",)
    # The attnames naming the row a save writes: a multi-table child's are its
    # root parent's key (Django syncs the child's link to it when saving).
    row_keys: tuple[str, ...] = ("id",)
    # The primary key's fields that a mask pattern matches: recorded in clear all
    # the same, as every event's ``object_pk`` (signalkit.W028).
    masked_keys: tuple[str, ...] = ()

    def row_key(self, values: dict[str, Any]) -> Any:
        """The key of the row a save of the instance whose ``__dict__`` is
        ``values`` writes (see ``row_keys``; the link's, if the parent's is unset)."""
        row_keys = self.row_keys
        # (key_of() without a call for a single key: every save comes here.)
        key = values.get(row_keys[0]) if len(row_keys) == 1 else key_of(values, row_keys)
        if key is None or (type(key) is tuple and None in key):
            return key_of(values, self.keys)
        return key

    def m2m_for(self, through: type[Model]) -> M2MPlan | None:
        """The audited many-to-many field whose ``through`` model this is."""
        for m2m in self.m2m:  # a loop: this runs for every add() of an audited relation
            if m2m.through is through:
                return m2m
        return None


def resolve(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def build(audit: AuditSettings) -> dict[type[Model], ModelPlan]:
    """A plan per audited model class, proxies of a listed model included."""
    listed: dict[type[Model], dict[str, list[str]]] = {}
    for label, options in audit.models.items():
        model = resolve(label)
        if model is None or model._meta.label == "signalkit.AuditEvent" or model._meta.swapped:
            continue  # reported by signalkit.E020 / E021 / E023
        # Two labels of one model ("blog.Post", "blog.post", W025): both apply.
        listed[model] = named.merged(listed[model], options) if model in listed else options
    # A model and its listed proxies share one history: each masks, leaves out
    # and unmasks what any of them does, whichever class saves the object
    # ('include' is each listed class's own).
    shared: dict[type[Model], dict[str, list[str]]] = {}
    for model, options in listed.items():
        family = shared.setdefault(named.concrete(model), {option: [] for option in named.SHARED})
        for option in named.SHARED:
            family[option] += options.get(option, ())
    plans: dict[type[Model], ModelPlan] = {}
    for model, options in listed.items():
        plans[model] = _plan(
            model,
            audit,
            {**options, **named.inherited(named.concrete(model), shared)},
            shared,
        )
    for candidate in apps.get_models():
        if candidate._meta.proxy and candidate not in plans:
            # The nearest listed class it derives from (a proxy's MRO holds its
            # proxied classes first; an MTI parent has another concrete model).
            nearest = next(
                (
                    base
                    for base in candidate.__mro__
                    if base in listed and named.concrete(base) is named.concrete(candidate)
                ),
                None,
            )
            if nearest is not None:
                plans[candidate] = plans[nearest]
    return plans


def _plan(
    model: type[Model],
    audit: AuditSettings,
    options: dict[str, list[str]],
    shared: dict[type[Model], dict[str, list[str]]] | None = None,
) -> ModelPlan:
    shared = {} if shared is None else shared  # (no listed model's options: MASK_FIELDS alone)

    def key_masked(field: Any) -> bool:
        return named.key_masked(field, audit, shared)

    include = options.get("include")
    exclude = (*audit.exclude_fields, *options.get("exclude", ()))
    masked = named.masker(audit, options)
    opts = model._meta

    def audited(field: Any) -> bool:
        return (include is None or named.field_matches(field, include)) and not (
            named.field_matches(field, exclude)
        )

    recorded = [field for field in opts.concrete_fields if not field.primary_key and audited(field)]
    fields = tuple(
        FieldPlan(
            field.name,
            field.attname,
            masked(field) or key_masked(field),
            columns.recorded(field),
            None if type(field).__module__.startswith("django.") else columns.as_text(field),
            columns.native(field),
        )
        for field in recorded
    )
    m2m = tuple(
        _m2m_plan(field, masked(field), key_masked) for field in opts.many_to_many if audited(field)
    )
    tracked = tuple(f.attname for f in recorded if not (f.generated and django.VERSION < (6,)))
    # A custom field's value may be an object of its own (a list, a class with
    # attributes): copied too, or a change made in place would not be seen.
    mutable = frozenset(
        f.attname
        for f in recorded
        if f.get_internal_type() in _MUTABLE_TYPES or not type(f).__module__.startswith("django.")
    )
    files = frozenset(f.attname for f in recorded if isinstance(f, FileField))
    # Only JSON columns keep 1, 1.0 and True apart (arrays and hstores are typed).
    json = frozenset(f.attname for f in recorded if f.get_internal_type() == "JSONField")
    return ModelPlan(
        label=(opts.concrete_model or model)._meta.label,
        fields=fields,
        attnames=tracked,
        mutable=mutable | files,
        m2m=m2m,
        encoders=tuple((plan.name, plan.attname, plan.encoder()) for plan in fields),
        strict=json,
        converters=MappingProxyType(
            {
                f.attname: columns.compared(f)
                for f in recorded
                if f.attname not in json or columns.encoded(f)
            }
        ),
        exact=MappingProxyType(
            {
                f.attname: kind
                for f in recorded
                if f.attname not in json and (kind := columns.exact(f)) is not None
            }
        ),
        generated=frozenset(f.attname for f in recorded if f.generated),
        tracked=frozenset(tracked),
        keys=key_attnames(model),
        row_keys=row_attnames(model),
        masked_keys=tuple(
            f.name
            for f in getattr(opts, "pk_fields", (opts.pk,))
            # A key that is a relation (a multi-table child's parent link, a
            # one-to-one primary key) holds its target's value, whatever its name.
            if (named.key_masked(f, audit, shared, primary=True) if f.is_relation else masked(f))
        ),
    )


def _m2m_plan(field: Any, masked: bool, key_masked: Callable[[Any], bool]) -> M2MPlan:
    through = field.remote_field.through
    source = through._meta.get_field(field.m2m_field_name())
    target = through._meta.get_field(field.m2m_reverse_field_name())
    return M2MPlan(
        name=field.name,
        # (The keys a custom through model holds may be masked fields' values.)
        masked=masked or key_masked(source) or key_masked(target),
        model=field.model._meta.concrete_model,  # the declaring model (not a child's)
        through=through,
        source=source.attname,
        target=target.attname,
        symmetrical=bool(getattr(field.remote_field, "symmetrical", False)),
        source_key=source.target_field.attname,
        target_key=target.target_field.attname,
    )
