from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from signalkit.audit.prune import parse_before, prune


class Command(BaseCommand):
    help = "Delete audit events older than a date, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True, help="YYYY-MM-DD or an ISO datetime.")
        parser.add_argument("--dry-run", action="store_true", help="Only count the events.")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            before = parse_before(options["before"])
        except ValueError:
            raise CommandError(
                f"--before is {options['before']!r}, which is not a date (YYYY-MM-DD) "
                "or an ISO datetime."
            ) from None
        if options["batch_size"] < 1:
            raise CommandError(f"--batch-size is {options['batch_size']}; use 1 or more.")
        count = prune(
            before,
            using=options["database"],
            batch_size=options["batch_size"],
            dry_run=options["dry_run"],
        )
        verb = "Would delete" if options["dry_run"] else "Deleted"
        self.stdout.write(f"{verb} {count} audit event(s) before {before.isoformat()}.")
