from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from eduvault.cli.base import Command as BaseCommand
from eduvault.cores.mastery import BktParams, parse_answers, trace
from eduvault.kernel.errors import InvalidInput


class Command(BaseCommand):
    help = "Knowledge tracing: fit parameters per subtopic from recorded answers, or trace a sequence."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{fit,trace}")
        fit = actions.add_parser(
            "fit",
            help="estimate prior, learn, guess and slip per subtopic with pyBKT (pip install 'eduvault[mastery]')",
            description="Estimate knowledge-tracing parameters per subtopic from recorded answers, store them, "
            "and trace every learner's probability again with them.",
        )
        fit.add_argument("--course", metavar="COURSE_KEY", help="only this course (default: all)")
        fit.add_argument(
            "--min-answers", type=int, default=50, help="skip subtopics with fewer answers (default 50)"
        )
        fit.add_argument("--num-fits", type=int, default=5, help="EM restarts per subtopic (default 5)")
        fit.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        trace_ = actions.add_parser(
            "trace",
            help="print P(known) after each answer of a sequence",
            description="Print, one per line, the probability that the skill is known after each answer "
            "(the posterior given that answer, then the learning transition), to six decimals.",
        )
        for name in ("prior", "learn", "guess", "slip"):
            trace_.add_argument(f"--{name}", type=float, required=True, metavar=name[0].upper())
        trace_.add_argument("--answers", required=True, help="comma-separated 0/1 outcomes, e.g. 1,0,1,1")

    def needs_django(self, options: dict[str, Any]) -> bool:
        return options.get("action") != "trace"  # tracing needs no database

    def handle(self, *, action: str, **options: Any) -> None:
        if action == "trace":
            params = BktParams(
                prior=options["prior"], learn=options["learn"], guess=options["guess"], slip=options["slip"]
            )
            for p in trace(params, parse_answers(options["answers"])):
                self.write(f"{p:.6f}\n")
            return
        self._fit(options)

    def _fit(self, options: dict[str, Any]) -> None:
        from eduvault.learning.assessments.services import mastery_fit, mastery_observations
        from eduvault.pipeline.content.selectors import course_get

        if options["min_answers"] < 2 or options["num_fits"] < 1:
            raise InvalidInput("--min-answers must be at least 2 and --num-fits at least 1")
        course = course_get(key=options["course"]) if options["course"] else None
        total = len(mastery_observations(course=course))
        with Progress(
            TextColumn("fitting subtopics"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        ) as progress:
            task = progress.add_task("fit", total=total)
            report = mastery_fit(
                course=course,
                min_answers=options["min_answers"],
                num_fits=options["num_fits"],
                seed=options["seed"],
                on_subtopic=lambda: progress.advance(task),
            )
        table = Table(header_style="bold")
        for column in ("course", "subtopic", "answers", "learners", "prior", "learn", "guess", "slip"):
            table.add_column(column, justify="right" if column not in ("course", "subtopic") else "left")
        for course_key, subtopic, params, answers, learners in report.subtopics:
            values = (
                [f"{params.prior:.3f}", f"{params.learn:.3f}", f"{params.guess:.3f}", f"{params.slip:.3f}"]
                if params
                else ["—", "—", "—", "too few answers"]
            )
            table.add_row(course_key, subtopic, str(answers), str(learners), *values)
        self.console.print(table)
        fitted = sum(1 for s in report.subtopics if s[2] is not None)
        self.console.print(
            f"fitted {fitted} of {len(report.subtopics)} subtopics; traced {report.retraced} learners again",
            markup=False,
        )
