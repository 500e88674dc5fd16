from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import Any

from django.conf import settings

from eduvault.core.commands import EduVaultCommand
from eduvault.inbox.types import PRIORITIES


class Command(EduVaultCommand):
    help = "Process inbound events: a Celery worker on EDUVAULT_BROKER_URL, or in-process without one."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--queues",
            default=",".join(PRIORITIES),
            help="priority classes to take, comma-separated (default: critical,high,background)",
        )
        parser.add_argument("--concurrency", type=int, default=2, help="parallel syncs (default 2)")

    def handle(self, *args: Any, queues: str, concurrency: int, **options: Any) -> None:
        wanted = [q.strip() for q in queues.split(",") if q.strip()]
        unknown = sorted(set(wanted) - set(PRIORITIES))
        if unknown:
            self.fail_usage(
                f"unknown priority class(es): {', '.join(unknown)}; choose from {', '.join(PRIORITIES)}"
            )
        from eduvault.inbox.worker import InboxWorker, Upkeep

        upkeep = Upkeep().start()
        if settings.EDUVAULT_BROKER_URL:
            from eduvault.celery import configure
            from eduvault.inbox import tasks  # noqa: F401 - registers the tasks
            from eduvault.inbox.dispatch import queue_name

            app = configure()
            self.err.print(
                f"Celery worker on {_redacted(settings.EDUVAULT_BROKER_URL)}, queues {', '.join(wanted)}",
                markup=False,
            )
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
                ",".join(queue_name(q) for q in wanted),
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"eduvault-{'-'.join(wanted)}@%h",
            ]
            _run_celery_until_stopped(app, argv)
        else:
            self.err.print(
                f"in-process worker (no EDUVAULT_BROKER_URL), priorities {', '.join(wanted)}", markup=False
            )
            worker = InboxWorker(threads=concurrency, priorities=tuple(wanted)).start()
            done = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: done.set())
            with contextlib.suppress(KeyboardInterrupt):
                done.wait()
            worker.stop()
        upkeep.stop()

    def fail_usage(self, message: str) -> None:
        from django.core.management.base import CommandError

        raise CommandError(message, returncode=2)


def _run_celery_until_stopped(app: Any, argv: list[str], *, sleep: Any = time.sleep) -> None:
    """Run the Celery worker; start it again if it stops on an error rather than on a
    shutdown request. (Celery can die of an "unrecoverable" error when the broker goes away
    at the wrong moment, e.g. kombu failing while restoring unacknowledged messages of a
    closed Redis connection; the inbox keeps every event, so a fresh consumer loses nothing.)
    """
    import structlog
    from celery.worker import state

    log = structlog.get_logger("eduvault.inbox.worker")
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
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":•••@"))
    return urlunsplit(parts)
