from __future__ import annotations

from typing import Any

from eduvault.content.selectors import course_get
from eduvault.core.commands import EduVaultCommand
from eduvault.sync.render import history_table
from eduvault.sync.selectors import run_list


class Command(EduVaultCommand):
    help = "List a course's sync runs: version, outcome, counts and duration."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("course_key", metavar="COURSE_KEY")
        parser.add_argument("--limit", type=int, default=50, help="show the latest N runs (default 50)")

    def handle(self, *args: Any, course_key: str, limit: int, **options: Any) -> None:
        course = course_get(key=course_key)
        runs = list(run_list(course=course)[:limit])
        runs.reverse()
        self.console.print(history_table(runs))
        self.console.print(f"{course.key}: version {course.version}, {course.node_count} nodes", markup=False)
