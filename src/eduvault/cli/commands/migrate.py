from __future__ import annotations

from typing import Any

from eduvault.cli.base import Command as BaseCommand


class Command(BaseCommand):
    help = "Apply pending database migrations (commands do it on their own unless EDUVAULT_AUTO_MIGRATE=0)."
    migrate_first = False

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("-v", "--verbosity", type=int, default=1, choices=(0, 1, 2, 3), help="default 1")
        parser.add_argument("--plan", action="store_true", help="show what would be applied, apply nothing")

    def handle(self, *, verbosity: int, plan: bool, **options: Any) -> None:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=verbosity, plan=plan)
