"""Settings of the signalkit example site. Not for production."""

from __future__ import annotations

import os
from pathlib import Path

import django

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "example-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "signalkit",
    "accounts",
    "blog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "signalkit.middleware.AuditMiddleware",
]

ROOT_URLCONF = "example.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        # The smoke tests point this at a temporary file.
        "NAME": os.environ.get("EXAMPLE_DB", BASE_DIR / "db.sqlite3"),
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "static/"
# E-mails are printed on the console. Django 6.1 configures mailers with MAILERS
# and deprecates EMAIL_BACKEND.
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# One dict configures signalkit. Nothing here imports blog/signals.py:
# signalkit's autodiscovery does.
SIGNALKIT = {
    "AUTODISCOVER": True,
    # Toggles: switch any receiver off by its key, without touching its code.
    "RECEIVERS": {
        "blog.signals.ping_moderators": False,
    },
    # A profile for every new user, on sign-up, in the admin and for superusers.
    "PROFILE": {
        "MODEL": "accounts.Profile",
        "USER_FIELD": "user",
        "DEFAULTS": "accounts.profiles.defaults",
    },
    # Every change to posts and users is recorded; see the admin's audit log.
    "AUDIT": {"MODELS": ["blog.Post", "auth.User"]},
}
LOGIN_URL = "/admin/login/"

# EXAMPLE_OFFLOAD=1 runs the "notify followers" receiver on a task queue (the
# database backend): start `manage.py db_worker` beside the server.
EXAMPLE_OFFLOAD = os.environ.get("EXAMPLE_OFFLOAD") == "1"
if EXAMPLE_OFFLOAD:
    INSTALLED_APPS.append("django_tasks_db")
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
