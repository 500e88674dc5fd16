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

from rich_argparse import RichHelpFormatter

from eduvault import __version__
from eduvault.cli.base import Command, setup_django
from eduvault.kernel.errors import EduVaultError
from eduvault.kernel.registry import Registry

registered: Registry[type[Command]] = Registry("command")


class Parser(argparse.ArgumentParser):
    """Every parser, the subcommands' too, draws its help with rich."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", RichHelpFormatter)
        super().__init__(*args, **kwargs)


def discover() -> Registry[type[Command]]:
    """Register every command module of :mod:`eduvault.cli.commands` (once)."""
    if len(registered):
        return registered
    from eduvault.cli import commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        cls = module.Command
        cls.name = info.name.replace("_", "-")
        registered.add(cls.name, cls)
    return registered


def build_parser() -> Parser:
    parser = Parser(
        prog="eduvault",
        description="Edu Vault keeps a school's learning platforms and its own services in step.",
        epilog="Run 'eduvault COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"eduvault {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", parser_class=Parser)
    for name, cls in discover().items():
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
    parser = build_parser()
    if not argv:
        parser.print_help()
        sys.exit(0)
    options = vars(parser.parse_args(argv))
    name = options.pop("command")
    sys.exit(run(registered.get(name)(), options))


if __name__ == "__main__":  # pragma: no cover
    main()
