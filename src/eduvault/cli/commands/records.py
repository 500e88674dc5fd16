from __future__ import annotations

from typing import Any

import orjson
from rich.table import Table
from rich.text import Text

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag
from eduvault.kernel.errors import InvalidInput

OUTCOME_STYLE = {"applied": "green", "lost": "red", "stale": "dim", "duplicate": "dim"}


class Command(BaseCommand):
    """Learner records (grades, exam results, certificates, completions, badges, submissions,
    profiles, forum posts, enrollments, masteries) from every platform, merged field by field
    under the source-of-truth policies; their history, open conflicts, and the policies."""

    help = "List learner records, show one with its history, settle a conflict, show the policies, reconcile."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{list,show,settle,policies,reconcile}"
        )
        listing = actions.add_parser(
            "list", help="records, most recently changed first", description="List records."
        )
        listing.add_argument("--kind", metavar="KIND", help="grade, exam_result, completion, enrollment, ...")
        listing.add_argument("--course", metavar="COURSE_KEY")
        listing.add_argument("--person", type=int, metavar="PERSON_ID")
        listing.add_argument("--conflicts", action="store_true", help="only records with open conflicts")
        listing.add_argument("--limit", type=int, default=50)
        json_flag(listing)
        show = actions.add_parser(
            "show", help="a record, its conflicts and its field history", description="Show a record."
        )
        show.add_argument("id", type=int, metavar="RECORD_ID")
        settle = actions.add_parser(
            "settle",
            help="settle a field (override a conflict); every platform holding it follows",
            description='Settle a field of a record to a value (JSON, e.g. 7 or "B+").',
        )
        settle.add_argument("id", type=int, metavar="RECORD_ID")
        settle.add_argument("field", metavar="FIELD")
        settle.add_argument("value", metavar="VALUE")
        actions.add_parser(
            "policies", help="the source-of-truth policies in force", description="Show the policies."
        )
        reconcile = actions.add_parser(
            "reconcile", help="read records back from the platforms now", description="Reconcile records now."
        )
        reconcile.add_argument("--source", metavar="NAME", help="only this source")

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.pipeline.records import selectors, services

        if action == "list":
            rows = list(
                selectors.record_list(
                    kind=options["kind"],
                    course=options["course"],
                    person=options["person"],
                    conflicts=options["conflicts"],
                )[: max(1, options["limit"])]
            )
            if options["json"]:
                self.emit_json([selectors.record_data(r) for r in rows])
                return
            table = Table(header_style="bold")
            for column in (
                "id",
                "kind",
                "course",
                "about",
                "person",
                "fields",
                "home",
                "conflicts",
                "changed",
            ):
                table.add_column(column, no_wrap=column in ("id", "kind", "changed"))
            for r in rows:
                table.add_row(
                    str(r.pk),
                    r.kind,
                    r.course.key if r.course_id else "—",
                    r.title or r.object,
                    r.person.name if r.person_id else Text(f"held ({r.holder})", style="yellow"),
                    ", ".join(f"{k}={v}" for k, v in r.fields.items())[:80],
                    r.home,
                    Text(str(r.conflicts), style="bold red") if r.conflicts else "0",
                    f"{r.updated_at:%Y-%m-%d %H:%M:%S}",
                )
            self.console.print(table)
        elif action == "show":
            record = selectors.record_get(record_id=options["id"])
            self.emit_json(
                {
                    **selectors.record_data(record),
                    "open_conflicts": selectors.record_conflicts(record),
                    "history": [selectors.change_data(c) for c in selectors.record_history(record=record)],
                }
            )
        elif action == "settle":
            try:
                value = orjson.loads(options["value"])
            except orjson.JSONDecodeError:
                value = options["value"]  # plain text
            if not isinstance(value, str | int | float | bool | type(None)):
                raise InvalidInput("a settled value is a number, text, true, false or null")
            applied = services.record_settle(
                record_id=options["id"], field_name=options["field"], value=value, actor="cli"
            )
            self.say(
                f"settled record {options['id']}: {options['field']} = {value!r}; "
                f"{applied.deliveries} deliver{'y' if applied.deliveries == 1 else 'ies'} to platforms"
            )
        elif action == "policies":
            data = selectors.policies_data()
            self.err.print(f"# {data['file']}", markup=False)
            table = Table(header_style="bold", title="Who owns what")
            for column in ("kind", "priority", "owner", "per field"):
                table.add_column(column)
            for row in data["kinds"]:
                table.add_row(
                    row["kind"],
                    row["priority"],
                    row["owner"],
                    ", ".join(f"{k}: {v}" for k, v in row["fields"].items()) or "—",
                )
            self.console.print(table)
            self.console.print(f"identities are matched by: {', '.join(data['match'])}", markup=False)
        else:
            from eduvault.integrations.services import source_get
            from eduvault.pipeline.records.reconcile import records_reconcile, source_records_reconcile

            if options["source"]:
                source = source_get(name=options["source"])
                with self.err.status(f"reading the records of {source.name}", spinner="dots"):
                    applied = source_records_reconcile(source=source, manual=True)
                self.say(", ".join(f"{k} {v}" for k, v in applied.counts().items()) or "nothing to do")
            else:
                with self.err.status("reading the records of every source", spinner="dots"):
                    totals = records_reconcile()
                self.say(", ".join(f"{k} {v}" for k, v in totals.items() if v))
