from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
from rich.table import Table

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag
from eduvault.kernel.errors import InvalidInput, InvalidQuestion


class Command(BaseCommand):
    help = "Import and export a subtopic's questions as JSON, and list the question types."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{import,export,list,types}")
        imp = actions.add_parser(
            "import",
            help="import questions from a JSON file (all or nothing unless --partial)",
            description="Import a subtopic's questions: a JSON list of question documents, or a file "
            "written by 'questions export'. Every question is checked first; if any is invalid, each is "
            "reported with its reason and nothing is imported, unless --partial.",
        )
        imp.add_argument("file", metavar="FILE", help="the JSON file ('-' for standard input)")
        imp.add_argument("--course", metavar="COURSE_KEY", help="default: the file's course")
        imp.add_argument("--subtopic", metavar="SUBTOPIC_ID", help="default: the file's subtopic")
        imp.add_argument(
            "--partial", action="store_true", help="import the valid questions even if some are not"
        )
        exp = actions.add_parser(
            "export", help="export a subtopic's questions", description="Export questions."
        )
        exp.add_argument("--course", metavar="COURSE_KEY", required=True)
        exp.add_argument("--subtopic", metavar="SUBTOPIC_ID", required=True)
        exp.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
        listing = actions.add_parser("list", help="list a course's questions", description="List questions.")
        listing.add_argument("--course", metavar="COURSE_KEY", required=True)
        listing.add_argument("--subtopic", metavar="SUBTOPIC_ID")
        json_flag(listing)
        actions.add_parser("types", help="list the question types", description="List the question types.")

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.pipeline.content.selectors import course_get

        if action == "types":
            from eduvault.cores.grading import question_types

            for name in question_types():
                self.console.print(name, markup=False)
            return
        if action == "import":
            self._import(options)
            return
        course = course_get(key=options["course"])
        if action == "export":
            from eduvault.learning.assessments.selectors import questions_export

            data = orjson.dumps(
                questions_export(course=course, subtopic=options["subtopic"]), option=orjson.OPT_INDENT_2
            )
            if options["output"]:
                Path(options["output"]).write_bytes(data + b"\n")
                self.err.print(f"wrote {options['output']}", markup=False)
            else:
                self.write(data.decode() + "\n")
            return
        from eduvault.learning.assessments.selectors import questions_list

        questions = list(questions_list(course=course, subtopic=options["subtopic"]))
        if options["json"]:
            self.emit_json(
                [
                    {
                        "id": q.key,
                        "version": q.version,
                        "type": q.type,
                        "subtopic": q.subtopic,
                        "tags": q.tags,
                    }
                    for q in questions
                ]
            )
            return
        table = Table(header_style="bold")
        for column in ("id", "version", "type", "subtopic", "tags", "prompt"):
            table.add_column(column)
        for q in questions:
            prompt = str(q.document.get("prompt", ""))
            table.add_row(
                q.key,
                str(q.version),
                q.type,
                q.subtopic,
                ", ".join(q.tags),
                prompt[:60] + "…" * (len(prompt) > 60),
            )
        self.console.print(table)

    def _import(self, options: dict[str, Any]) -> None:
        from eduvault.kernel.bodies import parse_json
        from eduvault.learning.assessments.services import questions_import
        from eduvault.pipeline.content.selectors import course_get

        raw = sys.stdin.buffer.read() if options["file"] == "-" else _read(options["file"])
        data = parse_json(raw, what=options["file"])
        meta = data if isinstance(data, dict) else {}
        course_key = options["course"] or meta.get("course")
        subtopic = options["subtopic"] or meta.get("subtopic")
        if not course_key or not subtopic:
            raise InvalidInput("give --course and --subtopic (the file does not say)")
        try:
            report = questions_import(
                course=course_get(key=course_key),
                subtopic=subtopic,
                documents=data,
                partial=options["partial"],
                actor="cli",
            )
        except InvalidQuestion as exc:
            self._invalid(exc.context.get("invalid", []))
            raise InvalidQuestion(
                f"{len(exc.context.get('invalid', []))} invalid question(s); nothing was imported "
                "(--partial imports the valid ones)"
            ) from None
        if report.invalid:
            self._invalid(report.invalid)
        self.console.print(
            f"imported into {subtopic}: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.invalid)} invalid (skipped)",
            markup=False,
        )

    def _invalid(self, invalid: list[dict[str, Any]]) -> None:
        table = Table(title="invalid questions", header_style="bold")
        table.add_column("#", justify="right")
        table.add_column("id")
        table.add_column("problem")
        for bad in invalid:
            for problem in bad["problems"]:
                table.add_row(str(bad["index"]), str(bad["id"] or "—"), problem)
        self.err.print(table)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}") from None
