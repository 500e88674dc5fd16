"""The base of Edu Vault's commands: rich output, one way to fail, Django only when needed.

A command module holds one :class:`Command` subclass, named by its module (``sync.py`` is
``eduvault sync``; ``consume_openedx_bus.py`` is ``eduvault consume-openedx-bus``). Command
modules import nothing of Django at the top: ``eduvault --help`` lists every command by
importing them all, and ``eduvault diff`` runs without Django. A command that needs Django
says so (``django = True``, the default) and imports the services it calls inside
:meth:`Command.handle`, after Django is set up and the database migrated.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from eduvault.kernel.errors import EduVaultError

if TYPE_CHECKING:
    from rich.console import Console


class Failed(EduVaultError):
    """The command did not do all it was asked to."""


class Command:
    #: The command's name (set from its module's name).
    name: ClassVar[str] = ""
    #: One line for ``eduvault --help``; the docstring, if any, is the longer description.
    help: ClassVar[str] = ""
    #: Whether it needs Django set up and the database migrated.
    django: ClassVar[bool] = True
    #: A long-running service (``serve``, ``worker``): logs at INFO, not only errors.
    service: ClassVar[bool] = False
    #: Whether the embedded database is migrated before it runs (not for `migrate` itself).
    migrate_first: ClassVar[bool] = True

    @cached_property
    def console(self) -> Console:
        """Standard output, for people. Piped output is not wrapped at 80 columns: tables stay
        readable in logs and files."""
        from rich.console import Console

        return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)

    @cached_property
    def err(self) -> Console:
        """Standard error: progress, notes, errors."""
        from rich.console import Console

        return Console(stderr=True, highlight=False)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's arguments (argparse)."""

    def needs_django(self, options: dict[str, Any]) -> bool:
        """Whether this invocation needs Django (a command may do without for some actions)."""
        return self.django

    def handle(self, **options: Any) -> int | None:
        raise NotImplementedError

    # -- output ---------------------------------------------------------------------------------

    def write(self, text: str) -> None:
        """Plain text on standard output, exactly as given (titles are never interpreted)."""
        sys.stdout.write(text)

    def emit_json(self, value: Any) -> None:
        """A JSON document on standard output (``--json``)."""
        sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")

    def say(self, text: str) -> None:
        """A line for people, on standard output (never interpreted as markup)."""
        self.console.print(text, markup=False)


def json_flag(parser: argparse.ArgumentParser) -> None:
    """Listing commands take ``--json`` for scripts."""
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def setup_django(*, service: bool) -> None:
    """Set Django up for a command (logging at INFO for services, at ERROR for commands that
    print their own results and errors), and migrate the embedded database if it is new."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eduvault.config.settings")
    os.environ.setdefault("EDUVAULT_LOG_LEVEL", "INFO" if service else "ERROR")
    import django

    django.setup()
