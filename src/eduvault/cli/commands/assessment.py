from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.table import Table

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag
from eduvault.kernel.errors import InvalidInput


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not an ISO 8601 time, e.g. 2026-12-01T09:00+02:00") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{value!r}: give the time zone, e.g. 2026-12-01T09:00+02:00")
    return moment


class Command(BaseCommand):
    help = "List assessments, create exams, see results, close overdue attempts."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{list,exam,results,sweep,link,unlink}"
        )
        listing = actions.add_parser("list", help="list assessments", description="List assessments.")
        listing.add_argument("--course", metavar="COURSE_KEY")
        listing.add_argument("--kind", choices=("practice", "exam"))
        json_flag(listing)
        exam = actions.add_parser("exam", help="create an exam over subtopics", description="Create an exam.")
        exam.add_argument("--course", metavar="COURSE_KEY", required=True)
        exam.add_argument("--title", required=True)
        exam.add_argument("--subtopic", action="append", required=True, metavar="SUBTOPIC_ID", help="repeat")
        exam.add_argument("--questions", type=int, metavar="N", help="draw N per attempt (default: all)")
        exam.add_argument("--time-limit", type=int, metavar="MINUTES")
        exam.add_argument("--due", metavar="ISO_TIME", help="e.g. 2026-12-01T09:00+02:00")
        exam.add_argument("--attempts", type=int, default=1, help="attempt limit (default 1)")
        exam.add_argument(
            "--pass", dest="passing", type=float, default=0.5, help="passing fraction (default 0.5)"
        )
        results = actions.add_parser(
            "results", help="results per learner", description="Results per learner."
        )
        results.add_argument("assessment_id", type=int, metavar="ASSESSMENT_ID")
        actions.add_parser(
            "sweep", help="close attempts past their deadline now", description="Close overdue attempts."
        )
        link = actions.add_parser(
            "link",
            help="send an assessment's grades to a Canvas assignment",
            description="Link an assessment to an assignment of a platform's course; its learners' grades go there.",
        )
        link.add_argument("assessment_id", type=int, metavar="ASSESSMENT_ID")
        link.add_argument(
            "--source", required=True, metavar="NAME", help="the platform's source, e.g. school"
        )
        link.add_argument("--course", required=True, metavar="COURSE_ID", help="the platform's course id")
        link.add_argument(
            "--assignment", required=True, metavar="ASSIGNMENT_ID", help="the platform's assignment id"
        )
        unlink = actions.add_parser(
            "unlink", help="stop sending grades there", description="Unlink an assessment."
        )
        unlink.add_argument("assessment_id", type=int, metavar="ASSESSMENT_ID")
        unlink.add_argument("--source", required=True, metavar="NAME")

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.learning.assessments import selectors, services
        from eduvault.pipeline.content.selectors import course_get

        if action == "link":
            link = services.assessment_link(
                assessment_id=options["assessment_id"],
                source_name=options["source"],
                course_id=options["course"],
                assignment_id=options["assignment"],
                actor="cli",
            )
            points = link.links.get("points_possible")
            self.say(
                f"assessment {options['assessment_id']} sends its grades to {link.alias} of {link.replica} "
                f"({link.links.get('grading_type', 'points')}, {points:g} points)"
                if isinstance(points, int | float)
                else f"assessment {options['assessment_id']} sends its grades to {link.alias} of {link.replica}"
            )
        elif action == "unlink":
            removed = services.assessment_unlink(
                assessment_id=options["assessment_id"], source_name=options["source"]
            )
            self.say("unlinked" if removed else "it was not linked there")
        elif action == "sweep":
            closed = services.attempt_expire_overdue()
            self.console.print(f"closed {closed} overdue attempt(s)", markup=False)
        elif action == "exam":
            exam = services.exam_create(
                course=course_get(key=options["course"]),
                title=options["title"],
                subtopics=options["subtopic"],
                actor="cli",
                questions_per_attempt=options["questions"],
                time_limit_seconds=options["time_limit"] * 60 if options["time_limit"] else None,
                due_at=_when(options["due"]),
                attempt_limit=options["attempts"],
                passing_threshold=options["passing"],
            )
            self.console.print(f"created exam {exam.pk}: {exam.title}", markup=False)
        elif action == "results":
            services.attempt_expire_overdue(assessment_id=options["assessment_id"])
            data = selectors.assessment_results(
                assessment=selectors.assessment_get(assessment_id=options["assessment_id"])
            )
            table = Table(title=data["assessment"]["title"], header_style="bold")
            for column in ("learner", "attempts", "best", "last", "passed"):
                table.add_column(column)
            possible = None
            for row in data["learners"]:
                last = row["last"]
                possible = last["max_score"] if last else possible
                table.add_row(
                    row["learner"]["username"],
                    str(row["attempts"]),
                    "—" if row["best_score"] is None else f"{row['best_score']:g}",
                    "—" if not last else f"{last['score']:g}/{last['max_score']:g} ({last['closed_by']})",
                    "yes" if row["passed"] else "no",
                )
            self.console.print(table)
            totals = data["totals"]
            rate = "—" if totals["pass_rate"] is None else f"{100 * totals['pass_rate']:.0f}%"
            self.console.print(
                f"{totals['learners']} learners, {totals['submitted_attempts']} submitted attempts, pass rate {rate}",
                markup=False,
            )
        else:
            table = Table(header_style="bold")
            for column in ("id", "course", "kind", "title", "status", "questions", "time limit", "due"):
                table.add_column(column)
            rows = selectors.assessments_list(person=None, course=options["course"], kind=options["kind"])
            datas = selectors.assessments_data(rows)
            if options["json"]:
                self.emit_json(datas)
                return
            for a, data in zip(rows, datas):
                limit = data["settings"]["time_limit_seconds"]
                table.add_row(
                    str(a.pk),
                    data["course"],
                    a.kind,
                    a.title,
                    a.status,
                    str(data["question_count"]),
                    f"{limit // 60} min" if limit else "—",
                    data["settings"]["due_at"] or "—",
                )
            self.console.print(table)
