from __future__ import annotations

from typing import Any

import orjson
from rich.table import Table
from rich.text import Text

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag
from eduvault.kernel.errors import InvalidInput

STATUS_STYLE = {
    "pending": "yellow",
    "processing": "cyan",
    "done": "green",
    "failed": "red",
    "dead": "bold red",
}


class Command(BaseCommand):
    help = "List, inspect and replay inbound events (the inbox), dead letters included."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,show,replay}")
        listing = actions.add_parser(
            "list", help="list events, newest first", description="List inbound events."
        )
        listing.add_argument("--status", metavar="STATUS", help="pending, processing, done, failed or dead")
        listing.add_argument("--source", metavar="NAME")
        listing.add_argument("--course", metavar="COURSE_KEY", help="only events about this course")
        listing.add_argument("--limit", type=int, default=50)
        json_flag(listing)
        show = actions.add_parser(
            "show", help="one event: payload, attempts, error", description="Show one event."
        )
        show.add_argument("id", type=int, metavar="ID")
        replay = actions.add_parser(
            "replay",
            help="put events back in the queue",
            description="Replay events by id, or every dead letter.",
        )
        replay.add_argument("ids", nargs="*", type=int, metavar="ID")
        replay.add_argument("--dead", action="store_true", help="replay every dead letter")
        replay.add_argument("--failed", action="store_true", help="replay every permanently failed event")
        replay.add_argument("--source", metavar="NAME", help="with --dead/--failed: only this source's")

    def handle(self, *, action: str, **options: Any) -> None:
        getattr(self, f"_{action}")(**options)

    def _list(
        self, *, status: str | None, source: str | None, course: str | None, limit: int, json: bool, **_: Any
    ) -> None:
        from eduvault.integrations.services import source_get
        from eduvault.pipeline.inbox.selectors import event_list

        events = list(
            event_list(status=status, source=source_get(name=source) if source else None, subject_key=course)[
                : max(1, limit)
            ]
        )
        if json:
            self.emit_json(
                [
                    {
                        "id": e.pk,
                        "status": e.status,
                        "priority": e.priority,
                        "type": e.type,
                        "source": e.source.name,
                        "subject": e.subject,
                        "subject_key": e.subject_key,
                        "attempts": e.attempts,
                        "received_at": e.received_at,
                        "next_attempt_at": e.next_attempt_at,
                        "processed_at": e.processed_at,
                        "last_error": e.last_error,
                        "result": e.result,
                    }
                    for e in events
                ]
            )
            return
        table = Table(header_style="bold")
        for column in (
            "id",
            "status",
            "priority",
            "type",
            "subject",
            "attempts",
            "received (UTC)",
            "next try / done",
            "error",
        ):
            table.add_column(column, no_wrap=column not in ("error", "subject"))
        for e in events:
            when = e.processed_at if e.status in ("done", "failed", "dead") else e.next_attempt_at
            table.add_row(
                str(e.pk),
                Text(e.status, style=STATUS_STYLE.get(e.status, "")),
                e.priority,
                e.type.removeprefix("org.openedx."),
                f"{e.subject} {e.subject_key}",
                str(e.attempts),
                f"{e.received_at:%Y-%m-%d %H:%M:%S}",
                f"{when:%H:%M:%S}" if when else "—",
                Text(e.last_error[:120], overflow="fold"),
            )
        self.console.print(table)

    def _show(self, *, id: int, **_: Any) -> None:
        from eduvault.pipeline.inbox.selectors import event_get

        e = event_get(event_id=id)
        lines = [
            f"event {e.pk}  {e.status}  (attempt {e.attempts}, {e.priority} priority, via {e.via})",
            f"source      {e.source.name}",
            f"event id    {e.event_id}",
            f"type        {e.type}",
            f"subject     {e.subject} {e.subject_key}",
            f"received    {e.received_at.isoformat()}",
            f"next try    {e.next_attempt_at.isoformat()}",
            f"processed   {e.processed_at.isoformat() if e.processed_at else '—'}",
            f"result      {', '.join(f'{k} {v}' for k, v in e.result.items()) or '—'}",
            f"error       {e.last_error_code + ': ' + e.last_error if e.last_error else '—'}",
            "payload:",
            orjson.dumps(e.payload, option=orjson.OPT_INDENT_2).decode(),
        ]
        self.write("\n".join(lines) + "\n")

    def _replay(self, *, ids: list[int], dead: bool, failed: bool, source: str | None, **_: Any) -> None:
        from eduvault.integrations.services import source_get
        from eduvault.pipeline.inbox.selectors import event_get
        from eduvault.pipeline.inbox.services import events_replay

        if bool(ids) == (dead or failed):
            raise InvalidInput("give event ids, or --dead / --failed (with --source to narrow them)")
        if ids:
            for event_id in ids:
                event_get(event_id=event_id)
            replayed = events_replay(ids=ids)
        else:
            replayed = []
            for status in [s for s, wanted in (("dead", dead), ("failed", failed)) if wanted]:
                replayed += events_replay(status=status, source=source_get(name=source) if source else None)
        self.say(f"replayed {len(replayed)} event(s): {', '.join(str(e.pk) for e in replayed) or 'none'}")
