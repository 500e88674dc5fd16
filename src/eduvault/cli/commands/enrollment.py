from __future__ import annotations

from typing import Any

from rich.table import Table

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag

ROLES = ("learner", "instructor", "ta", "observer", "designer")


class Command(BaseCommand):
    """Enrollments: a person in a course, with a role and a state, from every platform that
    reports them, and Edu Vault's own (a learner who starts an attempt is enrolled too)."""

    help = "Enroll Edu Vault accounts in courses, remove them, and list who is enrolled where."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,remove,list}")
        for name, text in (
            ("add", "enroll an account in a course"),
            ("remove", "remove an account from a course"),
        ):
            action = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
            action.add_argument("course_key", metavar="COURSE_KEY")
            action.add_argument("username", metavar="USERNAME")
            action.add_argument("--role", choices=ROLES, default="learner", help="(default: learner)")
        listing = actions.add_parser("list", help="enrollments, by course", description="List enrollments.")
        listing.add_argument("--course", metavar="COURSE_KEY")
        listing.add_argument("--person", type=int, metavar="PERSON_ID")
        listing.add_argument(
            "--state", metavar="STATE", help="active, invited, inactive, completed or deleted"
        )
        json_flag(listing)

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.pipeline.content.selectors import course_get
        from eduvault.pipeline.records import enrollments, selectors

        if action in ("add", "remove"):
            course = course_get(options["course_key"])
            change = enrollments.enrollment_add if action == "add" else enrollments.enrollment_remove
            enrollment = change(
                course=course, username=options["username"], role=options["role"], actor="cli"
            )
            verb = "enrolled" if action == "add" else "removed"
            self.say(
                f"{verb} {options['username']} in {course.key} as {enrollment.role} ({enrollment.state})"
            )
            return
        rows = list(
            selectors.enrollment_list(
                course=options["course"], person=options["person"], state=options["state"]
            )
        )
        if options["json"]:
            self.emit_json([selectors.enrollment_data(e) for e in rows])
            return
        table = Table(header_style="bold")
        for column in ("course", "person", "name", "role", "state", "since"):
            table.add_column(column)
        for e in rows:
            table.add_row(
                e.course.key,
                str(e.person_id),
                e.person.name,
                e.role,
                e.state,
                f"{e.updated_at:%Y-%m-%d %H:%M}",
            )
        self.console.print(table)
