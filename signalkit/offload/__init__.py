"""Offloaded receivers: ``signalkit.receiver(..., offload=True)`` runs the
receiver on a Django Tasks backend.

:mod:`~signalkit.offload.targets` decides what may be offloaded and finds a
receiver again on the worker, :mod:`~signalkit.offload.codec` turns signal
arguments into JSON and back, :mod:`~signalkit.offload.enqueue` queues a call at
send time, :mod:`~signalkit.offload.tasks` runs it on the worker, and
:mod:`~signalkit.offload.compat` is the only module that knows where the Tasks
API lives.
"""

from __future__ import annotations
