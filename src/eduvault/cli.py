"""The ``eduvault`` command: Django's management commands plus Edu Vault's own.

``eduvault help`` (or no arguments) lists Edu Vault's commands first; every command has
``--help``. All commands honour ``DATABASE_URL`` and ``EDUVAULT_DATA_DIR``.
"""

from __future__ import annotations

import os
import sys

#: Edu Vault's own commands, in the order ``eduvault help`` lists them.
COMMANDS = (
    "demo",
    "sync",
    "show",
    "history",
    "diff",
    "rollback",
    "source",
    "token",
    "serve",
    "worker",
    "events",
    "reconcile",
    "consume-openedx-bus",
    "user",
    "questions",
    "assessment",
    "mastery",
)
#: Commands that run for a long time and should log at INFO by default.
SERVICE_COMMANDS = {"serve", "runserver", "worker", "consume-openedx-bus"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eduvault.config.settings")
    command = argv[0] if argv else "help"
    if command not in SERVICE_COMMANDS:
        # Interactive commands print their results; logs are for warnings and errors.
        os.environ.setdefault("EDUVAULT_LOG_LEVEL", "WARNING")
    from django.core.management import ManagementUtility

    class Utility(ManagementUtility):
        def main_help_text(self, commands_only: bool = False) -> str:
            if commands_only:
                return super().main_help_text(commands_only=True)
            from django.core.management import load_command_class

            lines = [
                "usage: eduvault <command> [options]",
                "",
                "Edu Vault keeps a school's services in step with its learning platform.",
                "",
                "Edu Vault commands:",
            ]
            from django.core.management import get_commands

            available = get_commands()
            for name in COMMANDS:
                if name in available:
                    help_text = load_command_class(available[name], name).help.strip().splitlines()[0]
                    lines.append(f"  {name:<20} {help_text}")
            lines += [
                "",
                "Run 'eduvault <command> --help' for a command's options.",
                "Django's own commands (migrate, createsuperuser, shell, ...) work too;",
                "'eduvault help --commands' lists them all.",
            ]
            return "\n".join(lines)

    Utility(["eduvault", *argv]).execute()


if __name__ == "__main__":  # pragma: no cover
    main()
