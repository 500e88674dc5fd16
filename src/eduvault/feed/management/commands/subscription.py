from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from eduvault.core.commands import EduVaultCommand
from eduvault.core.models import ApiToken
from eduvault.exceptions import InvalidInput
from eduvault.feed.models import Subscription
from eduvault.feed.outbound import (
    OPS,
    subscription_create,
    subscription_delete,
    subscription_enable,
    subscription_get,
)
from eduvault.feed.services import feed_head


class Command(EduVaultCommand):
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
        actions.add_parser(
            "list", help="subscriptions and their delivery health", description="List subscriptions."
        )
        attempts = actions.add_parser(
            "attempts", help="a subscription's latest delivery attempts", description="Attempts."
        )
        attempts.add_argument("name", metavar="NAME")
        attempts.add_argument("--limit", type=int, default=20)
        for verb, text in (
            ("enable", "re-enable a disabled subscription"),
            ("remove", "delete a subscription"),
        ):
            sub = actions.add_parser(verb, help=text, description=text[0].upper() + text[1:] + ".")
            sub.add_argument("name", metavar="NAME")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "add":
            token = None
            if options["token"]:
                token = ApiToken.objects.filter(name=options["token"], revoked_at__isnull=True).first()
                if token is None:
                    raise InvalidInput(f"no live token named {options['token']!r}")
            subscription, secret = subscription_create(
                name=options["name"],
                url=options["url"],
                courses=options["course"],
                kinds=options["kind"],
                ops=options["op"],
                token=token,
                from_start=options["from_start"],
            )
            self.stdout._out.write(secret + "\n")
            self.err.print(
                f"subscribed {subscription.name!r} to {subscription.url}; verify deliveries with the secret above "
                "(Standard Webhooks), shown only this once.",
                markup=False,
            )
        elif action == "list":
            head = feed_head()
            table = Table(header_style="bold")
            for column in (
                "name",
                "url",
                "filters",
                "state",
                "cursor",
                "behind",
                "attempts",
                "failing since",
            ):
                table.add_column(column)
            for s in Subscription.objects.select_related("token"):
                filters = "; ".join(
                    f"{label} {', '.join(values)}"
                    for label, values in (("courses", s.courses), ("kinds", s.kinds), ("ops", s.ops))
                    if values
                ) + (f"; token {s.token.name}" if s.token else "")
                state = (
                    Text("enabled", style="green")
                    if s.enabled
                    else Text(f"disabled: {s.disabled_reason}", style="red")
                )
                table.add_row(
                    s.name,
                    s.url,
                    filters or "all",
                    state,
                    str(s.cursor),
                    str(max(0, head - s.cursor)),
                    str(s.attempts),
                    f"{s.failing_since:%Y-%m-%d %H:%M}" if s.failing_since else "—",
                )
            self.console.print(table)
        elif action == "attempts":
            subscription = subscription_get(name_or_id=options["name"])
            table = Table(header_style="bold")
            for column in ("when (UTC)", "delivery id", "attempt", "status", "ms", "error / response"):
                table.add_column(column)
            for a in subscription.attempts_log.order_by("-id")[: options["limit"]]:
                table.add_row(
                    f"{a.created_at:%Y-%m-%d %H:%M:%S}",
                    a.delivery_id,
                    str(a.attempt),
                    Text(str(a.status_code or "—"), style="green" if a.ok else "red"),
                    str(a.latency_ms),
                    Text((a.error or a.response_excerpt)[:100], overflow="fold"),
                )
            self.console.print(table)
        elif action == "enable":
            subscription = subscription_enable(subscription=subscription_get(name_or_id=options["name"]))
            self.console.print(
                f"re-enabled {subscription.name!r} from cursor {subscription.cursor}", markup=False
            )
        else:
            subscription = subscription_get(name_or_id=options["name"])
            subscription_delete(subscription=subscription)
            self.console.print(f"removed {subscription.name!r}", markup=False)
