from __future__ import annotations

import getpass
import sys
from typing import Any

from rich.table import Table

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag
from eduvault.kernel.errors import InvalidInput


class Command(BaseCommand):
    help = "Add and list people: learners, instructors and admins who sign in for a JWT."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,list}")
        add = actions.add_parser("add", help="add a person", description="Add a person.")
        add.add_argument("username", metavar="USERNAME")
        add.add_argument(
            "--role", default="learner", metavar="ROLE", help="learner (default), instructor or admin"
        )
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
        listing.add_argument("--role", metavar="ROLE")
        json_flag(listing)

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.identity.selectors import people_list
        from eduvault.identity.services import user_create

        if action == "add":
            user = user_create(
                username=options["username"],
                role=options["role"],
                password=self._password(options),
                email=options["email"],
                full_name=options["name"],
                origin="cli",
            )
            self.say(f"added {options['role']} {user.get_username()!r} (id {user.pk})")
            return
        people = people_list(role=options["role"])
        rows = [
            {
                "id": user.pk,
                "username": user.get_username(),
                "role": getattr(getattr(user, "account", None), "role", None),
                "name": user.get_full_name(),
                "email": user.email,
                "active": user.is_active,
                "joined": user.date_joined,
            }
            for user in people
        ]
        if options["json"]:
            self.emit_json(rows)
            return
        table = Table(header_style="bold")
        for column in ("id", "username", "role", "name", "active", "joined"):
            table.add_column(column)
        for row in rows:
            table.add_row(
                str(row["id"]),
                row["username"],
                row["role"] or "—",
                row["name"] or "—",
                "yes" if row["active"] else "no",
                f"{row['joined']:%Y-%m-%d}",
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
