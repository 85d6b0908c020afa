from __future__ import annotations

import os

SECRET_KEY = "signalkit-tests-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "signalkit",
    "tests.testapp",
    "tests.profilesapp",
    "tests.registryapp",
    "tests.testingapp",
    "tests.offloadapp",
    "django_tasks_db",
    "tests.auditapp",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

# Distinct PostgreSQL test databases for runs that overlap (tox runs two at once).
_suffix = "".join(
    c if c.isalnum() else "_"
    for c in os.environ.get("SIGNALKIT_TEST_DB_SUFFIX", os.environ.get("TOX_ENV_NAME", ""))
)

if os.environ.get("SIGNALKIT_TEST_DB") == "postgres":
    _pg = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
        "USER": os.environ.get("PGUSER", "postgres"),
        "PASSWORD": os.environ.get("PGPASSWORD", ""),
    }
    DATABASES = {
        "default": {**_pg, "NAME": "signalkit", "TEST": {"NAME": f"test_signalkit_{_suffix}"}},
        "other": {
            **_pg,
            "NAME": "signalkit_other",
            "TEST": {"NAME": f"test_signalkit_other_{_suffix}"},
        },
    }
elif os.environ.get("SIGNALKIT_TEST_DB") == "mariadb":
    try:
        # mysqlclient, the driver Django supports (the tox MariaDB envs install it).
        import MySQLdb  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        if os.environ.get("SIGNALKIT_TEST_MYSQL_DRIVER") == "mysqlclient":
            raise
        # mysqlclient needs the MariaDB client headers to build; where they are
        # missing, PyMySQL stands in (it passes Django's version check as 2.2.1).
        import pymysql  # type: ignore[import-untyped,import-not-found,unused-ignore]

        pymysql.version_info = (2, 2, 1, "final", 0)
        pymysql.install_as_MySQLdb()
    _my = {
        "ENGINE": "django.db.backends.mysql",
        "HOST": os.environ.get("MYSQL_HOST", "127.0.0.1"),
        "PORT": os.environ.get("MYSQL_PORT", "3306"),
        "USER": os.environ.get("MYSQL_USER", "root"),
        "PASSWORD": os.environ.get("MYSQL_PASSWORD", ""),
        "OPTIONS": {"charset": "utf8mb4"},
    }
    DATABASES = {
        "default": {**_my, "NAME": "signalkit", "TEST": {"NAME": f"test_signalkit_{_suffix}"}},
        "other": {
            **_my,
            "NAME": "signalkit_other",
            "TEST": {"NAME": f"test_signalkit_other_{_suffix}"},
        },
    }
    # django-tasks-db's migration 0019 inspects its table on every database,
    # also where the router keeps the table out, which fails on MySQL: the
    # table is created without migrations, on the offload database only.
    MIGRATION_MODULES = {"django_tasks_database": None}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    }

# Offload tests: worker processes must see the data, so the task database and the
# data those tests write live in PostgreSQL even when the rest run on SQLite.
DATABASES["offload"] = {
    "ENGINE": "django.db.backends.postgresql",
    "HOST": os.environ.get("PGHOST", "127.0.0.1"),
    "PORT": os.environ.get("PGPORT", "5432"),
    "USER": os.environ.get("PGUSER", "postgres"),
    "PASSWORD": os.environ.get("PGPASSWORD", ""),
    "NAME": "signalkit_offload",
    "TEST": {"NAME": f"test_signalkit_offload_{_suffix}"},
}
DATABASE_ROUTERS = ["tests.offloadapp.routers.TasksRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SIGNALKIT: dict[str, object] = {}
