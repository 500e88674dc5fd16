from __future__ import annotations

import argparse
from typing import Any

from eduvault.cli.base import Command as BaseCommand


class Command(BaseCommand):
    """Run one of Django's own management commands (createsuperuser, shell, dbshell,
    showmigrations, ...) against Edu Vault's settings."""

    help = "Django's own management commands, for operators (e.g. eduvault django createsuperuser)."
    migrate_first = False

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("arguments", nargs=argparse.REMAINDER, metavar="COMMAND [ARGS]")

    def handle(self, *, arguments: list[str], **options: Any) -> None:
        from django.core.management import ManagementUtility

        ManagementUtility(["eduvault django", *(arguments or ["help"])]).execute()
