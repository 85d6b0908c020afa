from __future__ import annotations

from django.apps import AppConfig

from signalkit import audit


class SignalkitConfig(AppConfig):
    name = "signalkit"
    verbose_name = "signalkit"
    # Pinned: Django 6.0 changed the project-wide default, and our migrations
    # must be identical on every supported version.
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from signalkit import checks  # noqa: F401  (registers the system checks)
        from signalkit.autodiscover import autodiscover

        autodiscover()
        audit.connect()  # receivers per audited model, auth events, system checks
