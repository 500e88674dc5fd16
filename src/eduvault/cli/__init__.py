"""The ``eduvault`` command line: its own front end (argparse, drawn by rich).

Every command is a module of :mod:`eduvault.cli.commands`, found and registered when the
command line starts: the registry that lists them in ``eduvault --help`` is the one that
dispatches them. Django is set up only for the commands that need it (``eduvault --help``
and ``eduvault diff`` never boot it), and the embedded database is migrated first when it
is new. Django's own management commands stay reachable for operators as
``eduvault django <command>``.

A command that fails prints one ``error: <reason>`` line on standard error and exits with
the error's code (2 for bad input, 3 for something not found, 1 otherwise).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Any

from eduvault import __version__
from eduvault.cli.base import Command, setup_django
from eduvault.kernel.errors import EduVaultError
from eduvault.kernel.registry import Registry

registered: Registry[type[Command]] = Registry("command")


class Parser(argparse.ArgumentParser):
    """Every parser, the subcommands' too, draws its help with rich (loaded only when help or
    a usage error is drawn)."""

    def _get_formatter(self) -> argparse.HelpFormatter:
        from rich_argparse import RichHelpFormatter

        return RichHelpFormatter(prog=self.prog)


def command_names() -> dict[str, str]:
    """{command name: module name} of every module in :mod:`eduvault.cli.commands`, found
    without importing any."""
    from eduvault.cli import commands as package

    return {
        info.name.replace("_", "-"): f"{package.__name__}.{info.name}"
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
    }


def load(name: str, module: str) -> type[Command]:
    """Register (once) and return the command of one module."""
    if name not in registered:
        cls = importlib.import_module(module).Command
        cls.name = name
        registered.add(name, cls)
    return registered.get(name)


def discover() -> Registry[type[Command]]:
    """Register every command module of :mod:`eduvault.cli.commands`."""
    for name, module in command_names().items():
        load(name, module)
    return registered


def build_parser(only: str | None = None) -> Parser:
    """The parser of every command, or of the command ``only`` (what running one command
    needs: the other modules are not even imported)."""
    parser = Parser(
        prog="eduvault",
        description="Edu Vault keeps a school's learning platforms and its own services in step.",
        epilog="Run 'eduvault COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"eduvault {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", parser_class=Parser)
    names = command_names()
    commands = [(only, load(only, names[only]))] if only in names else discover().items()
    for name, cls in commands:
        command_parser = sub.add_parser(name, help=cls.help, description=cls.__doc__ or cls.help)
        cls().add_arguments(command_parser)
    return parser


def run(command: Command, options: dict[str, Any]) -> int:
    """Run one command; an error of Edu Vault's is one line on standard error and an exit code."""
    django = command.needs_django(options)
    try:
        if django:
            setup_django(service=command.service)
            if command.migrate_first:
                from eduvault.kernel.db import ensure_schema

                ensure_schema()
        return command.handle(**options) or 0
    except EduVaultError as exc:
        command.err.print(f"error: {exc.detail}", markup=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    finally:
        if django:
            from django.db import connections

            connections.close_all()


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        build_parser().print_help()
        sys.exit(0)
    # Running one command builds (and imports) that command alone.
    parser = build_parser(only=argv[0])
    options = vars(parser.parse_args(argv))
    name = options.pop("command")
    sys.exit(run(registered.get(name)(), options))


if __name__ == "__main__":  # pragma: no cover
    main()
