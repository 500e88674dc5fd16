from __future__ import annotations

from typing import Any

from eduvault.cli.base import Command as BaseCommand


class Command(BaseCommand):
    """An Open edX simulator with a Form 3 mathematics course; six author edits synced one by
    one and explained; a learner practising the first subtopic; then the API served with a
    fresh admin token and the learner's sign-in printed (--no-serve exits instead)."""

    help = "Watch a realistic Open edX course being synchronized, edit after edit, then serve the API."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="exit after the walkthrough instead of serving the API"
        )
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to serve the API on (default 127.0.0.1)"
        )
        parser.add_argument("--port", type=int, default=8000, help="port to serve the API on (default 8000)")

    def handle(self, *, no_serve: bool, host: str, port: int, **options: Any) -> None:
        from eduvault.cli.demo import Demo

        Demo(self.console, self.err).run(no_serve=no_serve, host=host, port=port)
