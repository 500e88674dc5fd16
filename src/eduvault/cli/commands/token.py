from __future__ import annotations

from typing import Any

from rich.table import Table

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag


class Command(BaseCommand):
    help = "Create, list and revoke API tokens (a new token is printed once, stored hashed)."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser(
            "create", help="create a token and print it once", description="Create a token."
        )
        create.add_argument("name", metavar="NAME")
        create.add_argument("--role", default="consumer", metavar="ROLE", help="consumer (default) or admin")
        create.add_argument(
            "--course",
            action="append",
            default=[],
            metavar="COURSE_KEY",
            help="limit a consumer to this course (repeat for several; default: all courses)",
        )
        create.add_argument(
            "--kind",
            action="append",
            default=[],
            metavar="KIND",
            help="limit a consumer to changes of this kind, e.g. subtopic (repeat for several; default: all)",
        )
        listing = actions.add_parser(
            "list", help="list tokens (never their values)", description="List tokens."
        )
        json_flag(listing)
        revoke = actions.add_parser("revoke", help="revoke a token", description="Revoke a token.")
        revoke.add_argument("name", metavar="NAME")

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.identity.models import ApiToken
        from eduvault.identity.services import token_create, token_revoke

        if action == "create":
            token, value = token_create(
                name=options["name"], role=options["role"], courses=options["course"], kinds=options["kind"]
            )
            # The value alone on stdout, so scripts can capture it; the explanation on stderr.
            self.write(value + "\n")
            scope = (", ".join(token.courses) if token.courses else "all courses") + (
                f"; kinds {', '.join(token.kinds)}" if token.kinds else ""
            )
            self.err.print(
                f"created {token.role} token {token.name!r} ({scope}); it is shown only this once. "
                "Send it as 'Authorization: Bearer <token>'.",
                markup=False,
            )
            return
        if action == "revoke":
            token = token_revoke(name=options["name"])
            self.say(f"revoked token {token.name!r}")
            return
        tokens = list(ApiToken.objects.order_by("name"))
        if options["json"]:
            self.emit_json(
                [
                    {
                        "name": t.name,
                        "role": t.role,
                        "prefix": t.prefix,
                        "courses": t.courses,
                        "kinds": t.kinds,
                        "created_at": t.created_at,
                        "last_used_at": t.last_used_at,
                        "revoked_at": t.revoked_at,
                    }
                    for t in tokens
                ]
            )
            return
        table = Table(header_style="bold")
        for column in ("name", "role", "prefix", "courses", "created", "last used", "revoked"):
            table.add_column(column)
        for token in tokens:
            table.add_row(
                token.name,
                token.role,
                token.prefix,
                ", ".join(token.courses) or "all",
                f"{token.created_at:%Y-%m-%d %H:%M}",
                f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "—",
                f"{token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "—",
            )
        self.console.print(table)
