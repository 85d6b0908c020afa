from __future__ import annotations

import functools

from django.db.models import Model

from tests.discovery import fail_halfway, later_apps, pinged_later
from tests.discovery.halfapp import helpers

pinged_later.connect(
    functools.partial(helpers.say, line="laterapp.partial"),
    sender="halfapp.Later",
    apps=later_apps,
    weak=False,
)


class Later(Model):
    """Registered here: Django makes the connections waiting for it, this
    module's and those made before."""

    class Meta:
        app_label = "halfapp"
        apps = later_apps

    def __str__(self) -> str:
        return f"Later {self.pk}"


if __name__ in fail_halfway:
    raise ZeroDivisionError("broken after registering Later")
