"""The Celery application: one queue per priority class, carrying only inbox event ids.

Tasks are acknowledged late and re-queued when their worker is lost; the inbox's leases
make processing idempotent, so a message delivered twice costs a query, not a second sync.
"""

from __future__ import annotations

import os

from celery import Celery, signals
from django.conf import settings
from django.db import close_old_connections
from kombu import Queue

from eduvault.kernel.priorities import PRIORITIES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eduvault.config.settings")

app = Celery("eduvault")


_configured = False


def configure() -> Celery:
    """Configure the app from Django's settings (once): every process that publishes or
    consumes tasks calls this before it does."""
    global _configured
    if _configured:
        return app

    prefix = settings.EDUVAULT_QUEUE_PREFIX
    app.conf.update(
        broker_url=settings.EDUVAULT_BROKER_URL or "memory://",
        broker_connection_timeout=2,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 3600},
        task_queues=[Queue(f"{prefix}.{name}") for name in PRIORITIES],
        task_default_queue=f"{prefix}.background",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        enable_utc=True,
    )
    _configured = True
    return app


@signals.task_prerun.connect
@signals.task_postrun.connect
def _fresh_connections(**_: object) -> None:
    # Long-lived worker processes: drop connections that broke or outlived their welcome.
    close_old_connections()
