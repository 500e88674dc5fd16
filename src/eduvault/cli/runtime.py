"""The long-running processes: the server (``eduvault serve``) and the worker
(``eduvault worker``). Each runs the periodic jobs every worker runs; without a broker, each
also drains the inbox in-process, so the embedded setup is durable too."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import structlog
import uvicorn
from celery.worker import state
from django.conf import settings

from eduvault.cli.listeners import ReusePortWorkers, reuse_port_supported
from eduvault.kernel.celery import configure
from eduvault.kernel.periodic import JobRunner
from eduvault.pipeline.inbox import tasks  # noqa: F401 - registers the inbox's task with the app
from eduvault.pipeline.inbox.dispatch import queue_name
from eduvault.pipeline.inbox.worker import InboxWorker
from eduvault.pipeline.outbox import tasks as outbox_tasks  # noqa: F401 - and the outbox's

log = structlog.get_logger(__name__)

APPLICATION = "eduvault.config.asgi:application"


def serve(*, host: str, port: int, workers: int = 1) -> None:
    """Serve the API with uvicorn. Without a broker, one server process also drains the inbox
    and runs the periodic jobs (with several, run ``eduvault worker`` beside them)."""
    local: tuple[InboxWorker, JobRunner] | None = None
    if not settings.EDUVAULT_BROKER_URL and workers == 1:
        local = (InboxWorker().start(), JobRunner().start())
    trusted = settings.EDUVAULT_TRUSTED_PROXIES
    options: dict[str, Any] = dict(
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
        # On SIGTERM, requests in flight get this long; open streams are then closed (their
        # clients resume by Last-Event-ID), so a restart never waits on a subscriber.
        timeout_graceful_shutdown=settings.EDUVAULT_SHUTDOWN_GRACE_SECONDS,
    )
    try:
        if workers > 1 and reuse_port_supported():
            # Each worker on a socket of its own, so a burst of connections is spread evenly.
            log.info("serve.started", host=host, port=port, workers=workers, reuse_port=True)
            ReusePortWorkers(uvicorn.Config(APPLICATION, **options)).run()
        else:
            uvicorn.run(APPLICATION, **options)
    finally:
        if local is not None:
            for part in local:
                part.stop()


def work(*, queues: list[str], concurrency: int, say: Callable[[str], None]) -> None:
    """Process inbound events on ``queues`` (priority classes) and run the periodic jobs:
    a Celery worker on ``EDUVAULT_BROKER_URL``, or an in-process one without a broker."""
    jobs = JobRunner().start()
    try:
        if settings.EDUVAULT_BROKER_URL:
            app = configure()
            say(f"Celery worker on {_redacted(settings.EDUVAULT_BROKER_URL)}, queues {', '.join(queues)}")
            # Threads, not forked processes: each thread has its own database connection (a
            # fork would share the parent's); run more `eduvault worker`s to use more cores.
            argv = [
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                "threads",
                "--concurrency",
                str(concurrency),
                "--queues",
                ",".join(queue_name(q) for q in queues),
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"eduvault-{'-'.join(queues)}@%h",
            ]
            run_celery_until_stopped(app, argv)
        else:
            say(f"in-process worker (no EDUVAULT_BROKER_URL), priorities {', '.join(queues)}")
            worker = InboxWorker(threads=concurrency, priorities=tuple(queues)).start()
            done = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: done.set())
            with contextlib.suppress(KeyboardInterrupt):
                done.wait()
            worker.stop()
    finally:
        jobs.stop()


def run_celery_until_stopped(
    app: Any, argv: list[str], *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Run the Celery worker; start it again if it stops on an error rather than on a
    shutdown request. (Celery can die of an "unrecoverable" error when the broker goes away
    at the wrong moment, e.g. kombu failing while restoring unacknowledged messages of a
    closed Redis connection; the inbox keeps every event, so a fresh consumer loses nothing.)
    """
    failures = 0
    while True:
        app.worker_main(argv)
        # Celery's signal handlers record a requested shutdown here, with its exit code (0 for
        # a warm one): anything but None or False means someone asked the worker to stop.
        if any(
            flag is not None and flag is not False for flag in (state.should_stop, state.should_terminate)
        ):
            return
        failures += 1
        delay = min(30.0, 2.0**failures)
        log.error("celery_worker.died", restart_in_s=delay, failures=failures)
        sleep(delay)


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":•••@"))
    return urlunsplit(parts)
