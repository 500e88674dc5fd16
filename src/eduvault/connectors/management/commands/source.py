from __future__ import annotations

from typing import Any

from rich.table import Table

from eduvault.connectors.models import Source
from eduvault.connectors.services import source_add, source_webhook_secret_set
from eduvault.core.commands import EduVaultCommand


class Command(EduVaultCommand):
    help = "Register learning-platform sources and list them (secrets are never shown)."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,list,webhook-secret}")
        add = actions.add_parser("add", help="register a source", description="Register a source.")
        add.add_argument("platform", choices=Source.Platform.values)
        add.add_argument("name", metavar="NAME", help="a short name, e.g. lms")
        add.add_argument(
            "--base-url", required=True, help="the platform's base URL, e.g. https://lms.example.org"
        )
        add.add_argument("--client-id", required=True, help="OAuth2 client id")
        add.add_argument(
            "--client-secret", required=True, help="OAuth2 client secret (stored, never printed)"
        )
        add.add_argument(
            "--webhook-secret", help="secret that signs the source's webhooks (stored, never printed)"
        )
        actions.add_parser(
            "list", help="list the registered sources", description="List the registered sources."
        )
        secret = actions.add_parser(
            "webhook-secret",
            help="set (rotate) a source's webhook secret",
            description="Set a source's webhook secret. The previous one stays valid too, until the next rotation, "
            "unless --drop-previous.",
        )
        secret.add_argument("name", metavar="NAME")
        secret.add_argument("secret", metavar="SECRET")
        secret.add_argument(
            "--drop-previous", action="store_true", help="accept only the new secret from now on"
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "webhook-secret":
            source = source_webhook_secret_set(
                name=options["name"], secret=options["secret"], keep_previous=not options["drop_previous"]
            )
            self.console.print(
                f"source {source.name!r} now accepts {len(source.webhook_secrets)} webhook secret(s)",
                markup=False,
            )
            return
        if action == "add":
            source = source_add(
                platform=options["platform"],
                name=options["name"],
                base_url=options["base_url"],
                client_id=options["client_id"],
                client_secret=options["client_secret"],
                webhook_secret=options.get("webhook_secret"),
            )
            self.console.print(
                f"registered {source.platform} source {source.name!r} at {source.base_url}", markup=False
            )
            return
        table = Table(header_style="bold")
        for column in ("name", "platform", "base URL", "client id", "secret", "webhook", "enabled"):
            table.add_column(column)
        for source in Source.objects.order_by("name"):
            table.add_row(
                source.name,
                source.platform,
                source.base_url,
                source.client_id,
                "••••••",
                f"{len(source.webhook_secrets)} secret(s)" if source.webhook_secrets else "—",
                "yes" if source.enabled else "no",
            )
        self.console.print(table)
