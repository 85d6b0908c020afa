from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, router

from signalkit.audit.prune import parse_before, prune
from signalkit.models import AuditEvent


class Command(BaseCommand):
    help = "Delete audit events older than a date, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True, help="YYYY-MM-DD or an ISO datetime.")
        parser.add_argument("--dry-run", action="store_true", help="Only count the events.")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--database", help="The database alias (default: where audit events are written)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        given = options["before"]
        if isinstance(given, datetime.date):  # call_command(before=date(...))
            given = given.isoformat()
        try:
            before = parse_before(given)
        except (ValueError, TypeError):
            raise CommandError(
                f"--before is {options['before']!r}, which is not a date (YYYY-MM-DD) "
                "or an ISO datetime that the database can store."
            ) from None
        if options["batch_size"] < 1:
            raise CommandError(f"--batch-size is {options['batch_size']}; use 1 or more.")
        using = options["database"] or router.db_for_write(AuditEvent)
        if using not in connections:
            raise CommandError(
                f"--database is {using!r}, which is not in DATABASES "
                f"({', '.join(sorted(connections.settings))})."
            )
        table = AuditEvent._meta.db_table
        if not router.allow_migrate_model(using, AuditEvent):
            raise CommandError(
                f"The database routers keep the audit log off {using!r} (allow_migrate): "
                "it holds no events. Name the database that holds them with --database."
            )
        if table not in connections[using].introspection.table_names():
            raise CommandError(
                f"{using!r} has no audit log table ({table}): "
                f"run 'manage.py migrate signalkit --database {using}'."
            )
        count = prune(
            before,
            using=using,
            batch_size=options["batch_size"],
            dry_run=options["dry_run"],
        )
        verb = "Would delete" if options["dry_run"] else "Deleted"
        self.stdout.write(f"{verb} {count} audit event(s) before {before.isoformat()}.")
