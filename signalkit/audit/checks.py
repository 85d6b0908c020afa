"""System checks for ``SIGNALKIT["AUDIT"]`` (signalkit.E020-E029, W020-W029;
the audit's middleware: ``middleware_checks``)."""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
from typing import Any

from django.apps import apps
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from signalkit.audit.http import trusted_networks
from signalkit.audit.options import matches
from signalkit.audit.options import names as names_of
from signalkit.audit.plans import build, resolve
from signalkit.conf import get_settings, raw_settings
from signalkit.validation import DEFAULTS


@register(Tags.models)
def check_audit_models(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Audited models must be installed (E020); their options must name fields
    (W020); each is listed once (W025)."""
    messages: list[CheckMessage] = []
    seen: dict[Any, str] = {}
    for label, options in get_settings().audit.models.items():
        model = resolve(label)
        if model is None:
            labels = [m._meta.label for m in apps.get_models()]
            close = difflib.get_close_matches(str(label), labels, n=1)
            messages.append(
                Error(
                    f"SIGNALKIT['AUDIT']['MODELS'] names {label!r}, which is not an installed model.",
                    hint=f"Did you mean {close[0]!r}?"
                    if close
                    else "Use 'app_label.ModelName' of an installed model, or remove it.",
                    id="signalkit.E020",
                )
            )
            continue
        if model._meta.swapped:
            # "auth.User" with a custom AUTH_USER_MODEL: its table is not used.
            messages.append(
                Error(
                    f"SIGNALKIT['AUDIT']['MODELS'] names {label!r}, which is swapped for "
                    f"{model._meta.swapped!r}: nothing would be recorded.",
                    hint=f"List {model._meta.swapped!r} instead.",
                    id="signalkit.E023",
                )
            )
            continue
        if model in seen:
            messages.append(
                Warning(
                    f"SIGNALKIT['AUDIT']['MODELS'] names {model._meta.label} twice, as "
                    f"{seen[model]!r} and {label!r}: the options of both apply.",
                    hint="Keep one entry.",
                    id="signalkit.W025",
                )
            )
        seen.setdefault(model, label)
        names = _field_names(model)
        lowered = {name.lower() for name in names}
        for option in ("include", "exclude", "mask", "unmask"):
            for name in options.get(option, ()):
                if any(char in name for char in "*?[") or name.lower() in lowered:
                    continue
                messages.append(
                    Warning(
                        f"SIGNALKIT['AUDIT']['MODELS'][{label!r}][{option!r}] names {name!r}, "
                        f"which is not a field of {label}.",
                        hint=f"Fields of {label}: {', '.join(sorted(names))}.",
                        id="signalkit.W020",
                    )
                )
    return messages


@register(Tags.models)
def check_global_field_names(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A name in ``MASK_FIELDS`` or ``EXCLUDE_FIELDS`` should be a field of some
    audited model (W022): a typo there would mask or leave out nothing."""
    raw = raw_settings()
    audit = raw.get("AUDIT") if isinstance(raw, dict) else None
    models = [model for label in get_settings().audit.models if (model := resolve(label))]
    if not isinstance(audit, dict) or not models:
        return []
    names = {name.lower() for model in models for name in _field_names(model)}
    messages: list[CheckMessage] = []
    for option in ("MASK_FIELDS", "EXCLUDE_FIELDS"):
        given = audit.get(option)
        # A default written out with the user's own names (["last_login",
        # "iban"]) is no typo, whether or not an audited model has that field.
        defaults = {name.lower() for name in DEFAULTS["AUDIT"][option]}
        for name in given if isinstance(given, list | tuple) else ():
            if not isinstance(name, str) or any(char in name for char in "*?["):
                continue  # patterns may match models audited later
            if name.lower() not in names and name.lower() not in defaults:
                messages.append(
                    Warning(
                        f"SIGNALKIT['AUDIT'][{option!r}] names {name!r}, which is not a "
                        "field of any audited model.",
                        hint="Check the spelling, or use a pattern such as '*iban*'.",
                        id="signalkit.W022",
                    )
                )
    return messages


# Names that usually hold secrets and that the default MASK_FIELDS patterns
# ("*password*", "*token*", "*secret*", "*api_key*") do not match.
LOOKS_SECRET = (
    "*passwd*",
    "*pwd*",
    "*passphrase*",
    "*apikey*",
    "*private_key*",
    "*privatekey*",
    "*credential*",
    "*access_key*",
)


@register(Tags.security)
def check_secret_looking_fields(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """An audited field whose name looks like a secret's but that no mask
    pattern matches is recorded in clear (W026), unless an ``unmask`` option
    names it: the default masks cannot guess every spelling."""
    audit = get_settings().audit
    # The fields these patterns would mask, as each model's own options (its
    # family's 'unmask' included) apply them: another model's 'unmask' does not.
    wide = build(dataclasses.replace(audit, mask_fields=(*audit.mask_fields, *LOOKS_SECRET)))
    messages: list[CheckMessage] = []
    seen: set[tuple[str, str]] = set()
    for model, plan in build(audit).items():
        if app_configs is not None and model._meta.app_config not in app_configs:
            continue  # (manage.py check LABEL: only those apps' models)
        # (A proxy may record fields its concrete model's 'include' leaves out.)
        for field, widened in zip(plan.fields, wide[model].fields, strict=True):
            if field.masked or not widened.masked or (plan.label, field.name) in seen:
                continue
            seen.add((plan.label, field.name))
            messages.append(
                Warning(
                    f"The audit log records {plan.label}.{field.name} in clear: its "
                    "name looks like a secret's, but no mask pattern matches it.",
                    hint=f"Mask it (add {field.name!r} to SIGNALKIT['AUDIT']"
                    "['MASK_FIELDS'] or to the model's 'mask'), leave it out "
                    "('exclude'), or name it in the model's 'unmask' to record it "
                    "knowingly.",
                    id="signalkit.W026",
                )
            )
    return messages


@register(Tags.security)
def check_masked_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A primary key that a mask pattern matches is recorded in clear all the
    same (W028): every event names its object by its key."""
    messages: list[CheckMessage] = []
    seen: set[str] = set()
    audit = get_settings().audit
    for model, plan in build(audit).items():
        if app_configs is not None and model._meta.app_config not in app_configs:
            continue
        if plan.label in seen:
            continue  # (a proxy shares its concrete model's plan)
        opts = model._meta
        if plan.masked_keys:
            names = ", ".join(plan.masked_keys)
            held = any(opts.get_field(name).is_relation for name in plan.masked_keys)
            # (A key that is a relation is reported by the key it holds: see plans.)
            why = (
                "it holds a key that a mask pattern matches"
                if held
                else "a mask pattern matches its name"
            )
            knowingly = (
                "or, if MASK_FIELDS matches the key, name it in the model's 'unmask' "
                "to record it knowingly."
            )
        elif _secret_text_key(model, audit.mask_fields):
            names = opts.pk.name
            why = "its model's name looks like a secret's and the key is text, likely the secret"
            knowingly = "or, if the key is no secret, name it in the model's 'unmask'."
        else:
            continue
        seen.add(plan.label)
        messages.append(
            Warning(
                f"The audit log records the primary key of {plan.label} ({names}) in "
                f"clear, in every event's object_pk and in the foreign keys to it: {why}, "
                "but an event must name its object.",
                hint="Give the model another primary key and keep the secret in a field "
                f"of its own, which the mask covers; {knowingly}",
                id="signalkit.W028",
            )
        )
    return messages


def _secret_text_key(model: Any, mask_fields: tuple[str, ...]) -> bool:
    """Whether a model named like a secret (a ``Token``, an ``ApiKey``) keys
    its rows by text: that key is usually the secret itself, under a name no
    mask matches (``key``, as django-rest-framework's ``authtoken.Token``),
    unless an ``unmask`` option of the model's names it."""
    opts = model._meta.concrete_model._meta
    pk = opts.pk
    if pk.is_relation or pk.get_internal_type() not in _TEXT_TYPES:
        return False
    patterns = (*mask_fields, *LOOKS_SECRET)
    if not matches(opts.model_name, patterns):  # (case-insensitive: "ApiToken" too)
        return False
    unmasked = {
        name.lower()
        for label, options in get_settings().audit.models.items()
        if (found := resolve(label)) is not None and found._meta.concrete_model is opts.model
        for name in options.get("unmask", ())
    }
    return pk.name.lower() not in unmasked and pk.attname.lower() not in unmasked


_TEXT_TYPES = frozenset({"CharField", "TextField", "SlugField", "EmailField"})


@register(Tags.security)
def check_trusted_proxies(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every ``TRUSTED_PROXIES`` entry must be an IP address or network (E022),
    not one that trusts every address (W023) or a host widened to its network (W024)."""
    # As written: an entry of another type (E003) drops the whole list from the
    # effective settings, and the other entries must still be reported.
    raw = raw_settings()
    audit = raw.get("AUDIT") if isinstance(raw, dict) else None
    proxies = audit.get("TRUSTED_PROXIES") if isinstance(audit, dict) else None
    messages: list[CheckMessage] = []
    for index, proxy in enumerate(proxies if isinstance(proxies, list | tuple) else ()):
        if not isinstance(proxy, str):
            continue  # signalkit.E003
        where = f"SIGNALKIT['AUDIT']['TRUSTED_PROXIES'][{index}]"
        try:
            network = ipaddress.ip_network(proxy.strip(), strict=False)
        except ValueError:
            messages.append(
                Error(
                    f"{where} is {proxy!r}, which is not an IP address or network.",
                    hint="Use addresses such as '10.0.0.1' or networks such as '10.0.0.0/8'.",
                    id="signalkit.E022",
                )
            )
            continue
        matched = trusted_networks((proxy,))[0]  # ("::ffff:0:0/96" is 0.0.0.0/0)
        if matched.prefixlen == 0:
            messages.append(
                Warning(
                    f"{where} is {proxy!r}, which trusts every IPv{matched.version} "
                    "address: any such client can choose the address recorded for "
                    "it with X-Forwarded-For.",
                    hint="List the addresses (or networks) of your own proxies only.",
                    id="signalkit.W023",
                )
            )
        elif "/" in proxy and network.network_address != ipaddress.ip_interface(proxy.strip()).ip:
            messages.append(
                Warning(
                    f"{where} is {proxy!r}, an address with a prefix: it trusts "
                    f"the whole network {network}.",
                    hint=f"Write '{network}' for the network, or the address alone.",
                    id="signalkit.W024",
                )
            )
    return messages


@register(Tags.models)
def check_audit_model_table(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Auditing ``AuditEvent`` itself would recurse (E021)."""
    if any(
        (model := resolve(label)) is not None and model._meta.label == "signalkit.AuditEvent"
        for label in get_settings().audit.models
    ):
        return [
            Error(
                "SIGNALKIT['AUDIT']['MODELS'] names 'signalkit.AuditEvent'.",
                hint="Audit events are append-only already; remove it.",
                id="signalkit.E021",
            )
        ]
    return []


def _field_names(model: Any) -> set[str]:
    """The names of what the audit records of ``model``, its concrete and
    many-to-many fields, that options accept (foreign keys' attnames too)."""
    opts = model._meta
    return {
        name for field in (*opts.concrete_fields, *opts.many_to_many) for name in names_of(field)
    }
