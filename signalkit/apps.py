from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class SignalkitConfig(AppConfig):
    name = "signalkit"
    verbose_name = "signalkit"
    # Pinned: Django 6.0 changed the project-wide default, and our migrations
    # must be identical on every supported version.
    default_auto_field = "django.db.models.AutoField"

    def __init__(self, app_name: str, app_module: Any) -> None:
        super().__init__(app_name, app_module)
        from signalkit.gate import refresh_toggles
        from signalkit.profiles import receivers as profiles

        # Before any model is imported: a receiver switched off never runs, also
        # for what apps send while they load (class_prepared, other apps' ready()).
        refresh_toggles()
        # The profile receiver too: it must run before the post_save receivers
        # that models modules and the ready() of apps listed before signalkit
        # connect, which may read the new user's profile.
        profiles.connect()

    def ready(self) -> None:
        # (Importing the checks modules registers their checks.)
        from signalkit import audit, checks, receiver_checks, signal_checks  # noqa: F401
        from signalkit.autodiscover import autodiscover
        from signalkit.offload import checks as offload_checks  # noqa: F401
        from signalkit.profiles import checks as profile_checks  # noqa: F401

        # (Toggles were read, and the profile receiver connected, in __init__;
        # setting_changed does both again.)
        autodiscover()
        audit.connect()  # receivers per audited model, auth events, system checks
