from __future__ import annotations

from typing import Any

from eduvault.core.commands import EduVaultCommand
from eduvault.sync.render import run_line
from eduvault.sync.services import course_rollback


class Command(EduVaultCommand):
    help = "Bring a course back to a past version, as a new run that applies the inverse changes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("course_key", metavar="COURSE_KEY")
        parser.add_argument(
            "--to-version", type=int, required=True, metavar="N", help="the version to return to"
        )

    def handle(self, *args: Any, course_key: str, to_version: int, **options: Any) -> None:
        run = course_rollback(course_key=course_key, to_version=to_version, actor="cli")
        self.console.print(run_line(run))
