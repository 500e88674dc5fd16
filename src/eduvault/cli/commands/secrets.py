from __future__ import annotations

from typing import Any

from eduvault.cli.base import Command as BaseCommand


class Command(BaseCommand):
    """Secrets the service keeps (platform credentials, webhook secrets) are sealed at rest
    with a key ring: EDUVAULT_SECRETS_KEYS (comma-separated Fernet keys, newest first), else
    the file secrets.keys in the data directory. 'rotate' seals every secret under a new key."""

    help = "Rotate the key that seals stored secrets, or make a new key."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{rotate,new-key}")
        actions.add_parser(
            "rotate",
            help="seal every stored secret under a new key",
            description="With the ring in the data directory: a new key is made, every secret is sealed again "
            "under it, and the old keys are dropped. With EDUVAULT_SECRETS_KEYS: put a new key (eduvault "
            "secrets new-key) first, run this, then remove the old keys.",
        )
        actions.add_parser(
            "new-key", help="print a new key for EDUVAULT_SECRETS_KEYS", description="Print a key."
        )

    def needs_django(self, options: dict[str, Any]) -> bool:
        return options.get("action") != "new-key"

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.kernel.secrets import key_generate

        if action == "new-key":
            self.write(key_generate() + "\n")
            return
        from eduvault.kernel.secrets import secrets_rotate

        report = secrets_rotate()
        where = "EDUVAULT_SECRETS_KEYS" if report["from_environment"] else "the data directory's key file"
        self.say(f"sealed {report['resealed']} secret(s) under the newest key of {where}")
        if report["from_environment"] and report["keys"] > 1:
            self.say("every secret now opens with the first key alone: the others may be removed")
        elif report["dropped"]:
            self.say(f"dropped {report['dropped']} old key(s)")
