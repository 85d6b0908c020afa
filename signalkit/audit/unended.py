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


def record(instance: Model, frame: Frame, error: BaseException) -> None:
    """Record the save of ``instance`` (``frame``) as its ``post_save`` would
    have, if ``error`` came out of its ``post_save``: the save failed after it
    wrote, maybe in its own commit (a deferred constraint of a multi-table save
    in autocommit), which leaves nothing to record."""
    from signalkit.audit.receivers import record_save

    using = instance._state.db
    if using is None or not _from_post_save(error):
        return
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
            using=using,
            update_fields=frame.update_fields,
        )
    except Exception:
        # Under ON_ERROR "raise", a failed write has marked the transaction for
        # rollback, as for any change; the caller's error is the one raised.
        logger.exception(
            "signalkit could not record the save of %s %r", instance._meta.label, instance.pk
        )


def _from_post_save(error: BaseException) -> bool:
    """Whether ``error`` was raised while ``post_save`` was being sent: a method
    of the signal is on its way from the save to where it was raised."""
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_locals.get("self") is post_save:
            return True
        trace = trace.tb_next
    return False
