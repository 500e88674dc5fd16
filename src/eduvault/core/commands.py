"""The base of Edu Vault's management commands: rich output, clear errors, a ready database."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, handle_default_options
from django.db import connections
from rich.console import Console

from eduvault.exceptions import EduVaultError


class EduVaultCommand(BaseCommand):
    #: Whether the command touches the database (the embedded one is migrated first).
    needs_database = True
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        # Let a command define its own --version (e.g. `show --version N`) over Django's.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def execute(self, *args: Any, **options: Any) -> str | None:
        out = options.get("stdout") or self.stdout
        # Piped output is not wrapped at 80 columns: tables stay readable in logs and files.
        width = None if getattr(out, "isatty", lambda: False)() else 160
        self.console = Console(file=out, highlight=False, soft_wrap=True, width=width)
        self.err = Console(file=options.get("stderr") or sys.stderr, highlight=False, stderr=True)
        try:
            if self.needs_database:
                from eduvault.core.db import ensure_schema

                ensure_schema()
            return super().execute(*args, **options)
        except EduVaultError as exc:
            raise CommandError(exc.detail, returncode=exc.exit_code) from exc

    def run_from_argv(self, argv: list[str]) -> None:
        """As Django's, but errors print as one ``error: <reason>`` line on stderr."""
        self._called_from_command_line = True
        parser = self.create_parser(argv[0], argv[1])
        options = parser.parse_args(argv[2:])
        cmd_options = vars(options)
        args = cmd_options.pop("args", ())
        handle_default_options(options)
        try:
            self.execute(*args, **cmd_options)
        except CommandError as exc:
            if options.traceback:
                raise
            self.stderr.write(f"error: {exc}")
            sys.exit(exc.returncode)
        finally:
            connections.close_all()
