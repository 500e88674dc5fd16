"""The Celery application: one queue per priority class, carrying only ids.

With RabbitMQ, work is published to a topic exchange (``<prefix>.work``) under the routing
key ``<priority>.<kind>.<platform>`` (``critical.grade.canvas``, ``background.course.openedx``);
each class's queue is bound to ``<priority>.#`` and dead-letters to ``<prefix>.dead`` (a topic
exchange with one queue, ``<prefix>.dead``, for messages a worker rejected or that expired).
An operator runs workers for one class (``eduvault worker --queues critical``) or binds a
queue of their own to, say, ``*.*.canvas``. With Redis (or no broker) the same classes are
plain queues.

Tasks are acknowledged late and re-queued when their worker is lost; the inbox's leases and
the outbox's claims make processing idempotent, so a message delivered twice costs a query,
not a second sync or a second write.
"""

from __future__ import annotations

import os

from celery import Celery, signals
from django.conf import settings
from django.db import close_old_connections
from kombu import Exchange, Queue

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
        task_queues=queues(),
        broker_connection_timeout=2,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 3600},
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


def _amqp() -> bool:
    return str(settings.EDUVAULT_BROKER_URL).startswith(("amqp://", "amqps://", "pyamqp://"))


def work_exchange() -> Exchange:
    return Exchange(f"{settings.EDUVAULT_QUEUE_PREFIX}.work", type="topic", durable=True)


def dead_exchange() -> Exchange:
    return Exchange(f"{settings.EDUVAULT_QUEUE_PREFIX}.dead", type="topic", durable=True)


def queues() -> list[Queue]:
    """One queue per priority class (bound to ``<priority>.#`` on the topic exchange with
    RabbitMQ, dead-lettering to the dead exchange), and the dead-letter queue."""
    prefix = settings.EDUVAULT_QUEUE_PREFIX
    if not _amqp():
        return [Queue(f"{prefix}.{name}") for name in PRIORITIES]
    work, dead = work_exchange(), dead_exchange()
    return [
        *(
            Queue(
                f"{prefix}.{name}",
                exchange=work,
                routing_key=f"{name}.#",
                queue_arguments={"x-dead-letter-exchange": dead.name},
                durable=True,
            )
            for name in PRIORITIES
        ),
        Queue(f"{prefix}.dead", exchange=dead, routing_key="#", durable=True),
    ]


def _segment(text: str) -> str:
    """A routing-key word: no dots, no wildcards."""
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in text) or "_"


def route(priority: str, kind: str, platform: str) -> dict[str, str]:
    """Where to publish work of ``priority`` about ``kind`` from/to ``platform``: the
    routing key ``<priority>.<kind>.<platform>`` on the topic exchange (RabbitMQ), or the
    class's queue."""
    if _amqp():
        key = ".".join(_segment(part) for part in (priority, kind, platform))
        return {"exchange": work_exchange().name, "routing_key": key}
    return {"queue": f"{settings.EDUVAULT_QUEUE_PREFIX}.{priority}"}
