from __future__ import annotations

from typing import Any

from eduvault.cli.base import Command as BaseCommand
from eduvault.kernel.errors import InvalidInput
from eduvault.kernel.priorities import PRIORITIES


class Command(BaseCommand):
    """Process inbound events and run the periodic jobs (reconcile, sweeps, deliveries, exam
    deadlines): a Celery worker on EDUVAULT_BROKER_URL, or in-process without one. A Celery
    worker that dies of an error is started again; only a shutdown request stops it."""

    help = "Process inbound events and run the periodic jobs (Celery, or in-process without a broker)."
    service = True

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--queues",
            default=",".join(PRIORITIES),
            help=f"priority classes to take, comma-separated (default: {','.join(PRIORITIES)})",
        )
        parser.add_argument("--concurrency", type=int, default=2, help="parallel work (default 2)")

    def handle(self, *, queues: str, concurrency: int, **options: Any) -> None:
        wanted = [q.strip() for q in queues.split(",") if q.strip()]
        unknown = sorted(set(wanted) - set(PRIORITIES))
        if unknown or not wanted:
            raise InvalidInput(
                f"unknown priority class(es): {', '.join(unknown) or '(none given)'}; choose from {', '.join(PRIORITIES)}"
            )
        from eduvault.cli.runtime import work

        work(queues=wanted, concurrency=concurrency, say=lambda text: self.err.print(text, markup=False))
