from __future__ import annotations

from typing import Any

from rich.table import Table

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag
from eduvault.kernel.errors import InvalidInput

#: Options naming a platform's settings and secrets, by the name its integration gives them.
FIELDS = {
    "client_id": "OAuth2 client id (Open edX)",
    "client_secret": "OAuth2 client secret (Open edX; sealed)",
    "token": "API access token (Canvas; sealed, never printed)",
    "jwks_url": "the JWKS URL that verifies signed Live Events (Canvas)",
    "api_key": "an admin API key (Discourse; sealed, never printed)",
    "api_username": "the user the API key acts as (Discourse), e.g. system",
}


class Command(BaseCommand):
    help = "Register the platforms Edu Vault exchanges with, list them, rotate their webhook secrets."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{add,list,webhook-secret,disable,enable}"
        )
        add = actions.add_parser(
            "add",
            help="register a source",
            description="Register a source. Its secrets are sealed at rest and never printed.",
        )
        add.add_argument("platform", metavar="PLATFORM", help="e.g. openedx")
        add.add_argument("name", metavar="NAME", help="a short name, e.g. lms")
        add.add_argument(
            "--base-url", required=True, help="the platform's base URL, e.g. https://lms.example.org"
        )
        for name, text in FIELDS.items():
            add.add_argument(f"--{name.replace('_', '-')}", dest=name, help=text)
        add.add_argument("--webhook-secret", help="the secret that signs the source's webhooks (sealed)")
        add.add_argument(
            "--allow-unsigned",
            action="store_true",
            help="accept unsigned Live Events (Canvas; anyone who knows the URL could send one)",
        )
        add.add_argument(
            "--setting", action="append", default=[], metavar="KEY=VALUE", help="another platform setting"
        )
        listing = actions.add_parser(
            "list", help="list the registered sources (never their secrets)", description="List sources."
        )
        json_flag(listing)
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
        disable = actions.add_parser(
            "disable", help="stop syncing a source and refuse its events", description="Disable a source."
        )
        disable.add_argument("name", metavar="NAME")
        disable.add_argument("--reason", default="disabled by an operator", help="why, for the console")
        enable = actions.add_parser("enable", help="enable a disabled source", description="Enable a source.")
        enable.add_argument("name", metavar="NAME")

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.integrations import services
        from eduvault.integrations.models import Source

        if action == "webhook-secret":
            source = services.source_webhook_secret_set(
                name=options["name"], secret=options["secret"], keep_previous=not options["drop_previous"]
            )
            self.say(f"source {source.name!r} now accepts {len(source.webhook_secrets)} webhook secret(s)")
        elif action == "add":
            values = {name: options[name] for name in FIELDS if options.get(name)}
            if options.get("allow_unsigned"):
                values["allow_unsigned"] = "true"
            for pair in options["setting"]:
                key, sep, value = pair.partition("=")
                if not sep or not key:
                    raise InvalidInput(f"--setting takes KEY=VALUE, not {pair!r}")
                values[key.replace("-", "_")] = value
            source = services.source_add(
                platform=options["platform"],
                name=options["name"],
                base_url=options["base_url"],
                webhook_secret=options.get("webhook_secret"),
                **values,
            )
            self.say(f"registered {source.platform} source {source.name!r} at {source.base_url}")
        elif action == "disable":
            source = services.source_disable(name=options["name"], reason=options["reason"])
            self.say(f"disabled source {source.name!r}: {source.disabled_reason}")
        elif action == "enable":
            source = services.source_enable(name=options["name"])
            self.say(f"enabled source {source.name!r}")
        else:
            sources = list(Source.objects.order_by("name"))
            if options["json"]:
                self.emit_json(
                    [
                        {
                            "name": s.name,
                            "platform": s.platform,
                            "base_url": s.base_url,
                            "settings": s.settings,
                            "secrets": sorted(s.credentials),
                            "webhook_secrets": len(s.webhook_secrets),
                            "enabled": s.enabled,
                            "disabled_reason": s.disabled_reason,
                        }
                        for s in sources
                    ]
                )
                return
            table = Table(header_style="bold")
            for column in ("name", "platform", "base URL", "settings", "secrets", "webhook", "state"):
                table.add_column(column)
            for s in sources:
                table.add_row(
                    s.name,
                    s.platform,
                    s.base_url,
                    ", ".join(f"{k}={v}" for k, v in s.settings.items()) or "—",
                    ", ".join(f"{k} ••••••" for k in sorted(s.credentials)) or "—",
                    f"{len(s.webhook_secrets)} secret(s)" if s.webhook_secrets else "—",
                    "enabled" if s.enabled else f"disabled: {s.disabled_reason}",
                )
            self.console.print(table)
