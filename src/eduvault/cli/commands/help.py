from __future__ import annotations

from typing import Any

from eduvault.cli.base import Command as BaseCommand


class Command(BaseCommand):
    help = "List the commands, or show one command's options (eduvault help sync)."
    django = False

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("topic", nargs="?", metavar="COMMAND", help="the command to explain")

    def handle(self, *, topic: str | None, **options: Any) -> None:
        from eduvault.cli import build_parser

        parser = build_parser()
        if topic is None:
            parser.print_help()
            return
        parser.parse_args([topic, "--help"])  # prints the command's help (or says it does not exist)
