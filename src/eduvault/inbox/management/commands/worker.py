from __future__ import annotations

import contextlib
import signal
import threading
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
            app.worker_main(
                [
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
            )
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


def _redacted(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":•••@"))
    return urlunsplit(parts)
