"""``manage.py listsignals``: signals, their receivers, senders and locations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError

from signalkit.render import FORMATS, check_arguments, listing

if TYPE_CHECKING:
    from argparse import ArgumentParser


class Command(BaseCommand):
    help = "List signals and their receivers: sender, flags and where each is defined."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        # (A default makes argparse take the positional as optional: call_command()
        # fails on a required one given by keyword, as in signals=["post_save"].)
        parser.add_argument(
            "signals", nargs="*", default=[], metavar="SIGNAL", help="Signal names or dotted paths."
        )
        parser.add_argument(
            "--sender",
            help="Only receivers that run when this model (app_label.Model) sends: those "
            "connected for it, and those connected for any sender.",
        )
        parser.add_argument(
            "--sender-only",
            action="store_true",
            help="With --sender, leave out the receivers connected for any sender.",
        )
        parser.add_argument("--app", help="Only receivers defined in this app's modules.")
        parser.add_argument(
            "--all", action="store_true", dest="include_all", help="Also signals without receivers."
        )
        parser.add_argument(
            "--include-django", action="store_true", help="Also receivers Django itself connects."
        )
        parser.add_argument("--format", choices=sorted(FORMATS), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        render = FORMATS.get(options["format"])
        if render is None:  # (call_command() does not check choices)
            formats = ", ".join(sorted(FORMATS))
            raise CommandError(f"Unknown format {options['format']!r}: use one of {formats}.")
        names = options["signals"]
        if isinstance(names, str):  # call_command(..., signals="post_save"): one name
            names = [names]
        try:
            check_arguments(
                names,
                sender=options["sender"],
                app=options["app"],
                sender_only=options["sender_only"],
            )
        except TypeError as error:
            raise CommandError(str(error)) from None
        try:
            data = listing(
                names,
                sender=options["sender"],
                app=options["app"],
                include_all=options["include_all"],
                include_django=options["include_django"],
                sender_only=options["sender_only"],
            )
        except LookupError as error:
            raise CommandError(str(error.args[0])) from None
        self.stdout.write(render(data), ending="")
