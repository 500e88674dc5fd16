from __future__ import annotations

from typing import Any

import uvicorn

from eduvault.core.commands import EduVaultCommand


class Command(EduVaultCommand):
    help = "Serve the API with uvicorn (ASGI); migrates the embedded database first if it is new."
    # (Without EDUVAULT_BROKER_URL, this process also processes the inbox.)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        serve(host=host, port=port, workers=workers)


def serve(*, host: str, port: int, workers: int = 1) -> None:
    """Serve the API. Without a broker, the same process drains the inbox too (one server
    process; with several, run ``eduvault worker`` beside them)."""
    from django.conf import settings

    from eduvault.inbox.worker import InboxWorker, Upkeep

    local = None
    if not settings.EDUVAULT_BROKER_URL and workers == 1:
        local = (InboxWorker().start(), Upkeep().start())
    try:
        _run(host=host, port=port, workers=workers)
    finally:
        if local is not None:
            for part in local:
                part.stop()


def _run(*, host: str, port: int, workers: int) -> None:
    from django.conf import settings

    trusted = settings.EDUVAULT_TRUSTED_PROXIES
    uvicorn.run(
        "eduvault.config.asgi:application",
        host=host,
        port=port,
        workers=workers,
        lifespan="off",
        log_config=None,  # our structlog configuration handles uvicorn's loggers too
        access_log=False,
        # X-Forwarded-For and -Proto are read from the operator's proxies only: anyone else
        # could choose the address their sign-ins are throttled by.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
        server_header=False,
    )
