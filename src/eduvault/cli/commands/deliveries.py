from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag
from eduvault.kernel.errors import InvalidInput

STATUS_STYLE = {"pending": "yellow", "sending": "cyan", "done": "green", "failed": "red", "dead": "bold red"}


class Command(BaseCommand):
    """The outbox: every write owed to a platform or a consumer (webhook deliveries, and the
    learner records platforms receive), with its attempts; dead letters can be replayed."""

    help = "List, inspect and replay the outbox's deliveries to platforms and consumers."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,show,replay}")
        listing = actions.add_parser("list", help="deliveries, newest first", description="List deliveries.")
        listing.add_argument("--status", metavar="STATUS", help="pending, sending, done, failed or dead")
        listing.add_argument("--target", metavar="TARGET", help="e.g. subscription:3")
        listing.add_argument("--channel", metavar="CHANNEL", help="e.g. webhook")
        listing.add_argument("--limit", type=int, default=50)
        json_flag(listing)
        show = actions.add_parser(
            "show", help="one delivery and its attempts", description="Show a delivery."
        )
        show.add_argument("id", type=int, metavar="ID")
        replay = actions.add_parser(
            "replay",
            help="send deliveries again",
            description="Replay deliveries by id, or every dead letter.",
        )
        replay.add_argument("ids", nargs="*", type=int, metavar="ID")
        replay.add_argument("--dead", action="store_true", help="replay every dead letter")
        replay.add_argument("--failed", action="store_true", help="replay every delivery a target refused")
        replay.add_argument("--target", metavar="TARGET", help="with --dead/--failed: only this target's")

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.pipeline.outbox import selectors, services

        if action == "list":
            rows = list(
                selectors.delivery_list(
                    status=options["status"], target=options["target"], channel=options["channel"]
                )[: max(1, options["limit"])]
            )
            if options["json"]:
                self.emit_json([selectors.delivery_data(d) for d in rows])
                return
            table = Table(header_style="bold")
            for column in (
                "id",
                "status",
                "priority",
                "channel",
                "target",
                "about",
                "attempts",
                "next / done",
                "error",
            ):
                table.add_column(column, no_wrap=column not in ("about", "error"))
            for d in rows:
                when = d.delivered_at if d.status == "done" else d.next_attempt_at
                table.add_row(
                    str(d.pk),
                    Text(d.status, style=STATUS_STYLE.get(d.status, "")),
                    d.priority,
                    d.channel,
                    d.target,
                    d.summary,
                    str(d.attempts),
                    f"{when:%Y-%m-%d %H:%M:%S}" if when else "—",
                    Text(d.last_error[:100], overflow="fold"),
                )
            self.console.print(table)
        elif action == "show":
            delivery = selectors.delivery_get(delivery_id=options["id"])
            self.emit_json(
                {
                    **selectors.delivery_data(delivery),
                    "payload": delivery.payload,
                    "attempts_log": [
                        {
                            "attempt": a.attempt,
                            "ok": a.ok,
                            "status_code": a.status_code,
                            "latency_ms": a.latency_ms,
                            "error": a.error,
                            "response_excerpt": a.response_excerpt,
                            "at": a.created_at,
                        }
                        for a in delivery.attempt_log.order_by("id")
                    ],
                }
            )
        else:
            ids, dead, failed, target = options["ids"], options["dead"], options["failed"], options["target"]
            if bool(ids) == (dead or failed):
                raise InvalidInput("give delivery ids, or --dead / --failed (with --target to narrow them)")
            if ids:
                for delivery_id in ids:
                    selectors.delivery_get(delivery_id=delivery_id)
                replayed = services.deliveries_replay(ids=ids)
            else:
                replayed = []
                for status in [s for s, wanted in (("dead", dead), ("failed", failed)) if wanted]:
                    replayed += services.deliveries_replay(status=status, target=target)
            self.say(f"replayed {len(replayed)} deliver{'y' if len(replayed) == 1 else 'ies'}")
