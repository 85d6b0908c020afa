from __future__ import annotations

from typing import Any

from django.test import override_settings

from signalkit.models import AuditEvent

AUDITED: dict[str, Any] = {
    "AUDIT": {
        "MODELS": {
            "auditapp.Account": {"mask": ["blob"]},
            "auditapp.Note": {},
            "auth.User": {},
        }
    }
}


def audited(**audit: Any) -> Any:
    """override_settings with the test models audited (plus ``audit`` keys)."""
    return override_settings(SIGNALKIT={"AUDIT": {**AUDITED["AUDIT"], **audit}})


def events(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("pk"))
