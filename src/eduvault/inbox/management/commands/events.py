from __future__ import annotations

from typing import Any

import orjson
from rich.table import Table
from rich.text import Text

from eduvault.connectors.services import source_get
from eduvault.core.commands import EduVaultCommand
from eduvault.exceptions import InvalidInput
from eduvault.inbox.models import InboundEvent
from eduvault.inbox.selectors import event_get, event_list
from eduvault.inbox.services import events_replay

STATUS_STYLE = {
    "pending": "yellow",
    "processing": "cyan",
    "done": "green",
    "failed": "red",
    "dead": "bold red",
}


class Command(EduVaultCommand):
    help = "List, inspect and replay inbound events (the inbox), dead letters included."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,show,replay}")
        listing = actions.add_parser(
            "list", help="list events, newest first", description="List inbound events."
        )
        listing.add_argument("--status", choices=InboundEvent.Status.values)
        listing.add_argument("--source", metavar="NAME")
        listing.add_argument("--course", metavar="COURSE_KEY")
        listing.add_argument("--limit", type=int, default=50)
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

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"_{action}")(**options)

    def _list(
        self, *, status: str | None, source: str | None, course: str | None, limit: int, **_: Any
    ) -> None:
        events = event_list(
            status=status, source=source_get(name=source) if source else None, course_key=course
        )
        table = Table(header_style="bold")
        for column in (
            "id",
            "status",
            "priority",
            "type",
            "course",
            "attempts",
            "received (UTC)",
            "next try / done",
            "error",
        ):
            table.add_column(column, no_wrap=column not in ("error", "course"))
        for e in events[:limit]:
            when = e.processed_at if e.status in ("done", "failed", "dead") else e.next_attempt_at
            table.add_row(
                str(e.pk),
                Text(e.status, style=STATUS_STYLE.get(e.status, "")),
                e.priority,
                e.type.removeprefix("org.openedx."),
                e.course_key,
                str(e.attempts),
                f"{e.received_at:%Y-%m-%d %H:%M:%S}",
                f"{when:%H:%M:%S}" if when else "—",
                Text(e.last_error[:120], overflow="fold"),
            )
        self.console.print(table)

    def _show(self, *, id: int, **_: Any) -> None:
        e = event_get(event_id=id)
        lines = [
            f"event {e.pk}  {e.status}  (attempt {e.attempts}, {e.priority} priority, via {e.via})",
            f"source      {e.source.name}",
            f"event id    {e.event_id}",
            f"type        {e.type}",
            f"course      {e.course_key}",
            f"received    {e.received_at.isoformat()}",
            f"next try    {e.next_attempt_at.isoformat()}",
            f"processed   {e.processed_at.isoformat() if e.processed_at else '—'}",
            f"sync run    {e.run_id or '—'}",
            f"error       {e.last_error_code + ': ' + e.last_error if e.last_error else '—'}",
            "payload:",
            orjson.dumps(e.payload, option=orjson.OPT_INDENT_2).decode(),
        ]
        self.stdout._out.write("\n".join(lines) + "\n")

    def _replay(self, *, ids: list[int], dead: bool, failed: bool, source: str | None, **_: Any) -> None:
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
        self.console.print(
            f"replayed {len(replayed)} event(s): {', '.join(str(e.pk) for e in replayed) or 'none'}",
            markup=False,
        )
