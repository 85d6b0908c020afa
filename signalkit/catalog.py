"""The catalog of Django's own signals, for the running Django version.

Django's signals have no names: this table gives each its canonical dotted path,
its keyword arguments, what its sender is, and a one-line description. Versions
are told apart by feature detection, in :func:`_features`, never by
``django.VERSION``.

The catalog is plain data: importing it imports no signal module and connects
nothing. That matters for ``django.test.signals`` (importing it connects
``setting_changed`` receivers) and ``django.tasks.signals`` (it connects its
logging receivers). A catalog signal whose module was never imported has, by
definition, no receivers; :func:`loaded_signal` returns ``None`` for it.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.dispatch import Signal


@dataclass(frozen=True)
class BuiltinSignal:
    """One of Django's signals."""

    path: str  # canonical dotted path, e.g. "django.db.models.signals.post_save"
    args: tuple[str, ...]  # keyword arguments receivers get besides signal and sender
    sender: str  # what the sender is
    description: str

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]

    @property
    def module(self) -> str:
        return self.path.rpartition(".")[0]


def _table(m2m_raw: bool, tasks: bool) -> list[BuiltinSignal]:
    models = "django.db.models.signals."
    core = "django.core.signals."
    auth = "django.contrib.auth.signals."
    m2m = ("action", "instance", "reverse", "model", "pk_set", "using")
    # What migrate sends (django/core/management/sql.py and commands/migrate.py).
    migrate = ("app_config", "verbosity", "interactive", "using", "stdout", "apps", "plan")
    table = [
        BuiltinSignal(f"{models}pre_init", ("args", "kwargs"), "the model class",
                      "Sent at the start of a model's __init__()."),
        BuiltinSignal(f"{models}post_init", ("instance",), "the model class",
                      "Sent at the end of a model's __init__()."),
        BuiltinSignal(f"{models}pre_save", ("instance", "raw", "using", "update_fields"), "the model class",
                      "Sent before a model instance is saved."),
        BuiltinSignal(f"{models}post_save",
                      ("instance", "created", "raw", "using", "update_fields"), "the model class",
                      "Sent after a model instance is saved."),
        BuiltinSignal(f"{models}pre_delete", ("instance", "using", "origin"), "the model class",
                      "Sent before a model instance is deleted."),
        BuiltinSignal(f"{models}post_delete", ("instance", "using", "origin"), "the model class",
                      "Sent after a model instance is deleted."),
        BuiltinSignal(f"{models}m2m_changed", (*m2m, "raw") if m2m_raw else m2m,
                      "the intermediate (through) model",
                      "Sent when a many-to-many relation changes."),
        BuiltinSignal(f"{models}class_prepared", (), "the model class",
                      "Sent when a model class has been defined and registered."),
        BuiltinSignal(f"{models}pre_migrate", migrate, "the AppConfig",
                      "Sent by migrate before it migrates an app."),
        BuiltinSignal(f"{models}post_migrate", migrate, "the AppConfig",
                      "Sent by migrate and flush after they finish an app "
                      "(flush sends neither stdout, apps nor plan)."),
        BuiltinSignal(f"{core}request_started", ("environ", "scope"), "the handler class",
                      "Sent when Django begins processing a request."),
        BuiltinSignal(f"{core}request_finished", (), "the handler class",
                      "Sent when Django finishes delivering a response."),
        BuiltinSignal(f"{core}got_request_exception", ("request",), "the handler class",
                      "Sent when a request raises an exception."),
        BuiltinSignal(f"{core}setting_changed", ("setting", "value", "enter"), "the settings class",
                      "Sent when a setting is changed by override_settings and friends."),
        BuiltinSignal("django.test.signals.template_rendered", ("template", "context"),
                      "the Template", "Sent when the test runner renders a template."),
        BuiltinSignal("django.db.backends.signals.connection_created", ("connection",),
                      "the database wrapper class", "Sent when a database connection opens."),
        BuiltinSignal(f"{auth}user_logged_in", ("request", "user"), "the user's class",
                      "Sent when a user logs in."),
        BuiltinSignal(f"{auth}user_logged_out", ("request", "user"), "the user's class",
                      "Sent when a user logs out."),
        BuiltinSignal(f"{auth}user_login_failed", ("credentials", "request"),
                      "the authentication module's name", "Sent when a login attempt fails."),
        BuiltinSignal("django.utils.autoreload.autoreload_started", (), "the reloader",
                      "Sent when the autoreloader starts watching files."),
        BuiltinSignal("django.utils.autoreload.file_changed", ("file_path",), "the reloader",
                      "Sent when the autoreloader sees a changed file."),
    ]  # fmt: skip
    if tasks:
        sent = "the task backend class"
        table += [
            BuiltinSignal("django.tasks.signals.task_enqueued", ("task_result",), sent,
                          "Sent when a task is enqueued."),
            BuiltinSignal("django.tasks.signals.task_started", ("task_result",), sent,
                          "Sent when a worker starts a task."),
            BuiltinSignal("django.tasks.signals.task_finished", ("task_result",), sent,
                          "Sent when a task finishes, successfully or not."),
        ]  # fmt: skip
    return table


def _features() -> tuple[bool, bool]:
    """``(m2m_changed has raw, django.tasks exists)``, detected without side effects."""
    from django.db.models import Manager
    from django.db.models.fields.related_descriptors import (
        create_forward_many_to_many_manager,
    )

    # The manager class is built without touching ``rel``; loaddata's raw m2m
    # saves go through ``set_base()`` (Django 6.1+).
    manager = create_forward_many_to_many_manager(Manager, None, reverse=False)  # type: ignore[arg-type]
    # find_spec of the package only: importing it would import its signals.
    tasks = importlib.util.find_spec("django.tasks") is not None
    return hasattr(manager, "set_base"), tasks


@cache
def builtin_signals() -> tuple[BuiltinSignal, ...]:
    """Every Django signal of the running version (21 on 5.2, 24 on 6.x)."""
    return tuple(_table(*_features()))


def loaded_signal(entry: BuiltinSignal) -> Signal | None:
    """The signal object, if its module was imported (never imports it)."""
    module = sys.modules.get(entry.module)
    if module is None:
        return None
    signal: Signal | None = module.__dict__.get(entry.name)
    return signal
