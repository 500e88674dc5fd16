from __future__ import annotations

import json
from typing import Any

from rich.table import Table

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag
from eduvault.kernel.errors import InvalidInput


class Command(BaseCommand):
    """Edu Vault as an LTI 1.3 tool: the platforms (LMSs) that launch it, what their
    administrators paste in, and the tool's signing keys."""

    help = "Register LTI 1.3 platforms, print the tool's configuration, rotate its keys."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{platform,config,roster,rotate-key}")
        platform = actions.add_parser("platform", help="the platforms that launch Edu Vault", description="LTI platforms.")
        what = platform.add_subparsers(dest="platform_action", required=True, metavar="{add,list,remove}")
        add = what.add_parser("add", help="register a platform", description="Register an LTI 1.3 platform.")
        add.add_argument("name", metavar="NAME")
        add.add_argument("--issuer", required=True, help="the platform's issuer (iss), e.g. https://canvas.instructure.com")
        add.add_argument("--client-id", required=True, help="the client id the platform gave this tool")
        add.add_argument("--auth-url", required=True, help="the platform's OIDC authorization endpoint")
        add.add_argument("--token-url", required=True, help="the platform's OAuth2 token endpoint")
        add.add_argument("--jwks-url", required=True, help="the platform's public key set")
        add.add_argument(
            "--deployment", action="append", required=True, metavar="ID", help="a deployment id (repeat for several)"
        )
        listing = what.add_parser("list", help="the registered platforms", description="List LTI platforms.")
        json_flag(listing)
        remove = what.add_parser("remove", help="forget a platform", description="Remove an LTI platform.")
        remove.add_argument("name", metavar="NAME")
        config = actions.add_parser(
            "config",
            help="the tool's URLs and keys, as a platform administrator pastes them in",
            description="Print the tool's login, launch and key URLs (from EDUVAULT_PUBLIC_URL, or --url).",
        )
        config.add_argument("--url", help="this server's public URL (default: EDUVAULT_PUBLIC_URL)")
        json_flag(config)
        roster = actions.add_parser(
            "roster",
            help="read a course's roster from its platform (NRPS) into people and enrollments",
            description="Read the roster of a platform's context (a course launched from it) into people and enrollments.",
        )
        roster.add_argument("platform", metavar="PLATFORM")
        roster.add_argument("context_id", metavar="CONTEXT_ID")
        actions.add_parser(
            "rotate-key",
            help="sign with a new key; the old one stays published until retired",
            description="Add a new signing key; the previous ones stay published (retire them with --retire later).",
        ).add_argument("--retire", action="store_true", help="stop publishing all but the newest key")

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.integrations.lti import keys, services

        if action == "platform":
            sub = options["platform_action"]
            if sub == "add":
                source = services.lti_platform_add(
                    name=options["name"],
                    issuer=options["issuer"],
                    client_id=options["client_id"],
                    auth_url=options["auth_url"],
                    token_url=options["token_url"],
                    jwks_url=options["jwks_url"],
                    deployments=options["deployment"],
                )
                self.say(f"registered LTI platform {source.name!r} ({source.setting('issuer')})")
            elif sub == "remove":
                services.lti_platform_remove(name=options["name"])
                self.say(f"removed LTI platform {options['name']!r}")
            else:
                rows = [
                    {"name": s.name, **{k: s.settings.get(k) for k in ("issuer", "client_id", "auth_url", "token_url", "jwks_url", "deployments")}}
                    for s in services.lti_platforms()
                ]
                if options["json"]:
                    self.emit_json(rows)
                    return
                table = Table(header_style="bold")
                for column in ("name", "issuer", "client id", "deployments"):
                    table.add_column(column)
                for row in rows:
                    table.add_row(row["name"], row["issuer"], row["client_id"], ", ".join(row["deployments"] or []))
                self.console.print(table)
        elif action == "roster":
            from eduvault.learning.lti.models import LtiContext
            from eduvault.learning.lti.services import roster_read

            context = LtiContext.objects.filter(
                source__name=options["platform"], context_id=options["context_id"]
            ).first()
            if context is None:
                raise InvalidInput(f"no launch has come from {options['context_id']} of {options['platform']} yet")
            read = roster_read(context=context)
            self.say(f"read {read['members']} member(s) of {context.context_id}; {read['records']} enrollment record(s)")
        elif action == "rotate-key":
            if options["retire"]:
                self.say(f"retired {keys.tool_keys_retire()} key(s); the newest one signs and is published")
                return
            key, older = keys.tool_key_rotate()
            self.say(f"key {key.kid} signs from now on; {len(older)} older key(s) stay published until --retire")
        else:
            from django.conf import settings

            from eduvault.learning.lti.config import tool_config

            base = (options["url"] or settings.EDUVAULT_PUBLIC_URL or "").rstrip("/")
            if not base:
                raise InvalidInput("the tool's public URL is unknown: set EDUVAULT_PUBLIC_URL or pass --url")
            config = tool_config(base)
            if options["json"]:
                self.emit_json(config)
                return
            for label, value in config["urls"].items():
                self.console.print(f"{label:<24}{value}", markup=False)
            self.console.print("\nCanvas developer key (paste as JSON):", markup=False)
            self.console.print(json.dumps(config["canvas_developer_key"], indent=2), markup=False)
