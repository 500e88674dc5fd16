from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag
from eduvault.kernel.errors import InvalidInput

OPS = ("create", "update", "move", "delete")


class Command(BaseCommand):
    help = "Manage outbound webhook subscriptions: add (prints the signing secret once), list, attempts, enable, remove."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{add,list,attempts,enable,remove}"
        )
        add = actions.add_parser(
            "add", help="subscribe a URL to the change feed", description="Add a subscription."
        )
        add.add_argument("name", metavar="NAME")
        add.add_argument("--url", required=True, help="where to POST each change (http or https)")
        add.add_argument(
            "--course",
            action="append",
            default=[],
            metavar="COURSE_KEY",
            help="only this course (repeatable)",
        )
        add.add_argument(
            "--kind", action="append", default=[], metavar="KIND", help="only this kind (repeatable)"
        )
        add.add_argument(
            "--op", action="append", default=[], choices=OPS, help="only this operation (repeatable)"
        )
        add.add_argument("--token", metavar="NAME", help="keep deliveries within this consumer token's scope")
        add.add_argument(
            "--from-start", action="store_true", help="deliver the whole feed, not just new changes"
        )
        listing = actions.add_parser(
            "list", help="subscriptions and their delivery health", description="List subscriptions."
        )
        json_flag(listing)
        attempts = actions.add_parser(
            "attempts", help="a subscription's latest delivery attempts", description="Attempts."
        )
        attempts.add_argument("name", metavar="NAME")
        attempts.add_argument("--limit", type=int, default=20)
        json_flag(attempts)
        for verb, text in (
            ("enable", "re-enable a disabled subscription"),
            ("remove", "delete a subscription"),
        ):
            sub = actions.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".")
            sub.add_argument("name", metavar="NAME")

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.identity.models import ApiToken
        from eduvault.pipeline.feed import webhooks
        from eduvault.pipeline.feed.selectors import subscription_attempts, subscriptions_health

        if action == "add":
            token = None
            if options["token"]:
                token = ApiToken.objects.filter(name=options["token"], revoked_at__isnull=True).first()
                if token is None:
                    raise InvalidInput(f"no live token named {options['token']!r}")
            subscription, secret = webhooks.subscription_create(
                name=options["name"],
                url=options["url"],
                courses=options["course"],
                kinds=options["kind"],
                ops=options["op"],
                token=token,
                from_start=options["from_start"],
            )
            self.write(secret + "\n")
            self.err.print(
                f"subscribed {subscription.name!r} to {subscription.url}; verify deliveries with the secret above "
                "(Standard Webhooks), shown only this once.",
                markup=False,
            )
        elif action == "list":
            rows = subscriptions_health()
            if options["json"]:
                self.emit_json(rows)
                return
            table = Table(header_style="bold")
            for column in (
                "name",
                "url",
                "filters",
                "state",
                "cursor",
                "waiting",
                "attempts",
                "failing since",
            ):
                table.add_column(column)
            for s in rows:
                filters = "; ".join(
                    f"{label} {', '.join(s[label])}" for label in ("courses", "kinds", "ops") if s[label]
                ) + (f"; token {s['token']}" if s["token"] else "")
                state = (
                    Text("enabled", style="green")
                    if s["enabled"]
                    else Text(f"disabled: {s['disabled_reason']}", style="red")
                )
                table.add_row(
                    s["name"],
                    s["url"],
                    filters or "all",
                    state,
                    str(s["cursor"]),
                    str(s["waiting"]),
                    str(s["attempts"]),
                    f"{s['failing_since']:%Y-%m-%d %H:%M}" if s["failing_since"] else "—",
                )
            self.console.print(table)
        elif action == "attempts":
            subscription = webhooks.subscription_get(name_or_id=options["name"])
            attempts = list(subscription_attempts(subscription=subscription)[: max(1, options["limit"])])
            if options["json"]:
                self.emit_json(
                    [
                        {
                            "at": a.created_at,
                            "delivery_id": a.delivery.idempotency_key,
                            "attempt": a.attempt,
                            "ok": a.ok,
                            "status_code": a.status_code,
                            "latency_ms": a.latency_ms,
                            "error": a.error,
                            "response_excerpt": a.response_excerpt,
                        }
                        for a in attempts
                    ]
                )
                return
            table = Table(header_style="bold")
            for column in ("when (UTC)", "delivery id", "attempt", "status", "ms", "error / response"):
                table.add_column(column)
            for a in attempts:
                table.add_row(
                    f"{a.created_at:%Y-%m-%d %H:%M:%S}",
                    a.delivery.idempotency_key,
                    str(a.attempt),
                    Text(str(a.status_code or "—"), style="green" if a.ok else "red"),
                    str(a.latency_ms),
                    Text((a.error or a.response_excerpt)[:100], overflow="fold"),
                )
            self.console.print(table)
        elif action == "enable":
            subscription = webhooks.subscription_enable(
                subscription=webhooks.subscription_get(name_or_id=options["name"])
            )
            self.say(f"re-enabled {subscription.name!r} from cursor {subscription.cursor}")
        else:
            subscription = webhooks.subscription_get(name_or_id=options["name"])
            webhooks.subscription_delete(subscription=subscription)
            self.say(f"removed {subscription.name!r}")
