from __future__ import annotations

from typing import Any

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag


class Command(BaseCommand):
    help = "List a course's sync runs: version, outcome, counts, trigger and duration."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("course_key", metavar="COURSE_KEY")
        parser.add_argument("--limit", type=int, default=50, help="show the latest N runs (default 50)")
        parser.add_argument("--source", metavar="NAME", help="the course's source, when two have this key")
        json_flag(parser)

    def handle(self, *, course_key: str, limit: int, source: str | None, json: bool, **options: Any) -> None:
        from eduvault.pipeline.content.selectors import course_get
        from eduvault.pipeline.sync.render import history_table, run_data
        from eduvault.pipeline.sync.selectors import run_list

        course = course_get(key=course_key, source=source)
        runs = list(run_list(course=course)[: max(1, limit)])
        runs.reverse()
        if json:
            self.emit_json([run_data(run) for run in runs])
            return
        self.console.print(history_table(runs))
        self.say(f"{course.key}: version {course.version}, {course.node_count} nodes")
