from __future__ import annotations

from typing import Any

from eduvault.cli.base import Command as BaseCommand


class Command(BaseCommand):
    """Serve the API, the live stream and the console with uvicorn (ASGI: the stream on the
    event loop, other requests on Django's WSGI handler in a thread pool). Without
    EDUVAULT_BROKER_URL the same process drains the inbox and runs the periodic jobs."""

    help = "Serve the API and the console (and, without a broker, process the inbox)."
    service = True

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")

    def handle(self, *, host: str, port: int, workers: int, **options: Any) -> None:
        from eduvault.cli.runtime import serve

        serve(host=host, port=port, workers=workers)
