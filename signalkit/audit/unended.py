"""Saves that wrote their row but whose ``post_save`` never reached the audit.

A ``post_save`` receiver that runs before the audit's -- one connected first,
such as a ``@receiver`` in a ``models.py`` -- may raise. Django's ``send()``
stops there, so the audit's receiver never runs, yet the row is written:
committed already in autocommit, and in a transaction whenever the caller
catches the error and goes on. The wrapper of ``save_base`` (see
:mod:`signalkit.audit.saves`) sees such a save fail after it wrote, and has its
event recorded here, in the same transaction; the error goes on as raised.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db.models.signals import post_save

if TYPE_CHECKING:
    from django.db.models import Model

    from signalkit.audit.frames import Frame

logger = logging.getLogger("signalkit.audit")


def record(instance: Model, frame: Frame) -> None:
    """Record the save of ``instance`` (``frame``) as its ``post_save`` would have."""
    from signalkit.audit.receivers import record_save

    # (Through the gate: a muted or switched-off receiver records nothing.)
    live, _ = post_save._live_receivers(type(instance))
    if record_save not in live:
        return
    try:
        record_save(
            type(instance),
            instance=instance,
            created=not frame.updated,
            raw=frame.raw,
            using=instance._state.db or "",
            update_fields=frame.update_fields,
        )
    except Exception:
        # Under ON_ERROR "raise", a failed write has marked the transaction for
        # rollback, as for any change; the caller's error is the one raised.
        logger.exception(
            "signalkit could not record the save of %s %r", instance._meta.label, instance.pk
        )
