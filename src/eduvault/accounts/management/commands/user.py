from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth import get_user_model
from rich.table import Table

from eduvault.accounts.models import Role
from eduvault.accounts.services import user_create
from eduvault.core.commands import EduVaultCommand
from eduvault.exceptions import InvalidInput


class Command(EduVaultCommand):
    help = "Add and list people: learners, instructors and admins who sign in for a JWT."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,list}")
        add = actions.add_parser("add", help="add a person", description="Add a person.")
        add.add_argument("username", metavar="USERNAME")
        add.add_argument("--role", choices=Role.values, default=Role.LEARNER, help="default: learner")
        add.add_argument("--email", default="")
        add.add_argument("--name", default="", help="full name")
        how = add.add_mutually_exclusive_group()
        how.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input (for scripts)",
        )
        how.add_argument(
            "--no-password",
            action="store_true",
            help="no password: the person cannot sign in with one (e.g. LTI launches only)",
        )
        listing = actions.add_parser("list", help="list people", description="List people.")
        listing.add_argument("--role", choices=Role.values)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "add":
            password = self._password(options)
            user = user_create(
                username=options["username"],
                role=options["role"],
                password=password,
                email=options["email"],
                full_name=options["name"],
                origin="cli",
            )
            self.console.print(
                f"added {options['role']} {user.get_username()!r} (id {user.pk})", markup=False
            )
            return
        users = get_user_model().objects.select_related("account").order_by("username")
        if options["role"]:
            users = users.filter(account__role=options["role"])
        table = Table(header_style="bold")
        for column in ("id", "username", "role", "name", "active", "joined"):
            table.add_column(column)
        for user in users:
            account = getattr(user, "account", None)
            table.add_row(
                str(user.pk),
                user.get_username(),
                account.role if account else "—",
                user.get_full_name() or "—",
                "yes" if user.is_active else "no",
                f"{user.date_joined:%Y-%m-%d}",
            )
        self.console.print(table)

    def _password(self, options: dict[str, Any]) -> str | None:
        if options["no_password"]:
            return None
        if options["password_stdin"]:
            line = sys.stdin.readline().rstrip("\r\n")
            if not line:
                raise InvalidInput("no password on standard input")
            return line
        if not sys.stdin.isatty():
            raise InvalidInput("give --password-stdin or --no-password when not at a terminal")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise InvalidInput("the passwords do not match")
        return first
