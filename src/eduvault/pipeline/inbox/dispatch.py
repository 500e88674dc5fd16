"""Handing stored events to workers: to the Celery queue of their priority class when a
broker is configured (with RabbitMQ, by the routing key ``<priority>.<subject>.<platform>``
on the topic exchange), else to the in-process worker.

Dispatch happens after the event is committed, off the request's path: a small thread per
process publishes to the broker, so a slow or stopped broker never delays a webhook's
answer. Whatever is not published (the broker is down, the process dies) stays pending in
the inbox, and the sweeper hands it over again.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import structlog
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from eduvault.kernel.celery import configure, route
from eduvault.pipeline.inbox.models import InboundEvent

log = structlog.get_logger(__name__)

#: The Celery task that processes one event's subject (see tasks.py).
PROCESS_TASK = "eduvault.inbox.process"

#: Callables that the in-process worker registers to be woken when there is work.
_local_listeners: list[Any] = []


def queue_name(priority: str) -> str:
    return f"{settings.EDUVAULT_QUEUE_PREFIX}.{priority}"


def uses_broker() -> bool:
    return bool(settings.EDUVAULT_BROKER_URL)


def event_dispatch(event: Any) -> None:
    """After an event is stored: hand its subject to a worker when it is due."""
    countdown = max(0.0, (event.next_attempt_at - timezone.now()).total_seconds())
    subject_dispatch(event, countdown=countdown)


def subject_dispatch(event: Any, *, countdown: float = 0.0) -> bool:
    """Queue processing of ``event``'s subject (its pending events are processed together)."""
    if not uses_broker():
        for wake in list(_local_listeners):
            wake()
        return True
    platform = event.source.platform if event.source_id else "unknown"
    _publisher().put(
        (event.pk, event.source_id, event.subject, event.subject_key, event.priority, platform, countdown)
    )
    return True


def listen_locally(wake: Any) -> None:
    _local_listeners.append(wake)


def stop_listening(wake: Any) -> None:
    if wake in _local_listeners:
        _local_listeners.remove(wake)


class _Publisher(threading.Thread):
    """Publishes (event id → queue) to the broker, one message at a time, in the background."""

    def __init__(self) -> None:
        super().__init__(name="eduvault-dispatch", daemon=True)
        self.jobs: queue.Queue[tuple[int, int, str, str, str, str, float]] = queue.Queue(maxsize=10_000)

    def put(self, job: tuple[int, int, str, str, str, str, float]) -> None:
        try:
            self.jobs.put_nowait(job)
        except queue.Full:  # the sweeper will hand it over
            log.warning("dispatch.queue_full", inbox_id=job[0])

    def run(self) -> None:
        app = configure()
        while True:
            event_id, source_id, subject, key, priority, platform, countdown = self.jobs.get()
            try:
                app.send_task(
                    PROCESS_TASK,
                    args=[event_id],
                    countdown=countdown or None,
                    retry=False,
                    **route(priority, subject, platform),
                )
            except Exception as exc:
                log.warning("dispatch.failed", inbox_id=event_id, subject=subject, key=key, error=str(exc))
                continue
            try:
                InboundEvent.objects.filter(
                    source_id=source_id, subject=subject, subject_key=key, status=InboundEvent.Status.PENDING
                ).update(dispatched_at=timezone.now())
            except Exception as exc:
                log.warning("dispatch.mark_failed", inbox_id=event_id, error=str(exc))
            finally:
                close_old_connections()


_publisher_lock = threading.Lock()
_publisher_thread: _Publisher | None = None


def _publisher() -> _Publisher:
    global _publisher_thread
    with _publisher_lock:
        if _publisher_thread is None or not _publisher_thread.is_alive():
            _publisher_thread = _Publisher()
            _publisher_thread.start()
        return _publisher_thread


def drain(timeout: float = 5.0) -> None:
    """Wait until everything handed to the publisher has been published (for tests, shutdown)."""
    deadline = time.monotonic() + timeout
    thread = _publisher_thread
    while thread is not None and not thread.jobs.empty() and time.monotonic() < deadline:
        time.sleep(0.01)
