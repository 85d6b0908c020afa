"""Apps that are never installed: the autodiscovery tests build their configs."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db.models.signals import ModelSignal
from django.dispatch import Signal

#: Dotted names of the modules below, appended to as each one is imported.
imports: list[str] = []

#: The signal the modules of ``halfapp`` connect their receivers to; each
#: receiver appends its name to :data:`imports`.
pinged = Signal()

#: Dotted names of the modules of ``halfapp`` that raise at the end of their import.
fail_halfway: set[str] = set()

#: A model signal and an app registry of its own, where the model that
#: ``halfapp`` connects a receiver for by its label is registered by the tests
#: only: until then, the connection waits in that registry.
pinged_later = ModelSignal()
later_apps = Apps(installed_apps=())
