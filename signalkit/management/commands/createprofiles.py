from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections

from signalkit.profiles import backfill


class Command(BaseCommand):
    help = "Create the missing profiles of SIGNALKIT['PROFILE'] for existing users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="The database alias to read users from and write profiles to (default: %(default)s).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="How many profiles to insert per query (default: %(default)s).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the missing profiles."
        )

    def handle(
        self, *args: Any, database: str, batch_size: int, dry_run: bool, **options: Any
    ) -> None:
        if database not in connections:
            known = ", ".join(connections)
            raise CommandError(f"Unknown database {database!r}. Known databases: {known}.")
        if batch_size < 1:
            raise CommandError(f"--batch-size is {batch_size}; it must be at least 1.")
        try:
            if dry_run:
                count = backfill.count_missing(using=database)
            else:
                count = backfill.create_missing(using=database, batch_size=batch_size)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        except IntegrityError as error:
            raise CommandError(
                f"{error} Check the values SIGNALKIT['PROFILE']['DEFAULTS'] gives the "
                "profile's required and unique fields."
            ) from error
        if not count:
            self.stdout.write("Every user has a profile: nothing to create.")
            return
        noun = "profile" if count == 1 else "profiles"
        verb = "Would create" if dry_run else "Created"
        self.stdout.write(f"{verb} {count} {noun}.")
