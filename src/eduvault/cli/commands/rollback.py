from __future__ import annotations

from typing import Any

from eduvault.cli.base import Command as BaseCommand


class Command(BaseCommand):
    help = "Bring a course back to a past version, as a new run that applies the inverse changes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("course_key", metavar="COURSE_KEY")
        parser.add_argument(
            "--to-version", type=int, required=True, metavar="N", help="the version to return to"
        )
        parser.add_argument("--source", metavar="NAME", help="the course's source, when two have this key")

    def handle(self, *, course_key: str, to_version: int, source: str | None, **options: Any) -> None:
        from eduvault.pipeline.sync.render import run_line
        from eduvault.pipeline.sync.services import course_rollback

        run = course_rollback(course_key=course_key, to_version=to_version, actor="cli", source=source)
        self.console.print(run_line(run))
