"""The audited models in force: the plans that
:func:`signalkit.audit.receivers.connect` built from ``SIGNALKIT["AUDIT"]``, which
the receivers look up on every signal they receive."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from signalkit.conf import get_settings, raw_audit_models

if TYPE_CHECKING:
    from collections.abc import Collection

    from django.db.models import Model

    from signalkit.audit.plans import M2MPlan, ModelPlan

__all__ = ["audited_labels", "plan_of", "plans", "through_plans", "warn_dropped"]

logger = logging.getLogger("signalkit.audit")

# Filled and emptied in place (never rebound): the receivers hold these dicts.
plans: dict[type[Model], ModelPlan] = {}
# A through model -> the audited many-to-many field it belongs to.
through_plans: dict[type[Model], M2MPlan] = {}


def plan_of(label: str) -> ModelPlan | None:
    """The plan of the audited model whose events are recorded under ``label``."""
    for plan in plans.values():
        if plan.label == label:
            return plan
    return None


def audited_labels() -> list[str]:
    """The labels events of the audited models (and auth events) are recorded under."""
    from django.contrib.auth import get_user_model

    labels = {plan.label for plan in plans.values()}
    if get_settings().audit.auth_events:
        labels.add(get_user_model()._meta.label)
    return sorted(labels)


def warn_dropped(kept: Collection[str]) -> None:
    """Log the entries of ``SIGNALKIT["AUDIT"]["MODELS"]`` that are not ``kept``."""
    # System checks report invalid entries, but not every server runs them: a
    # model silently left out of the log must at least be logged.
    models = raw_audit_models()
    dropped = [label for label in models if not isinstance(label, str) or label not in kept]
    if dropped:
        logger.warning(
            "SIGNALKIT['AUDIT']['MODELS'] %s %s invalid and not audited; "
            "run 'manage.py check' for details.",
            "entry" if len(dropped) == 1 else "entries",
            ", ".join(repr(label) for label in dropped) + (" is" if len(dropped) == 1 else " are"),
        )
