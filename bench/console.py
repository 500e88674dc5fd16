"""Benchmark: what the console's overview and a Prometheus scrape cost as history grows.

Seeds a scratch PostgreSQL database with ``--sources`` sources, ``--events`` inbox events
(mostly done, some pending, retrying, dead and failed, over 30 days) and ``--runs`` sync
runs, then renders ``/console/`` and scrapes ``/metrics`` in-process (Django's test client,
a signed-in admin and an admin token) ``--rounds`` times each: the median time and the
number of SQL statements, against a baseline measured in the same run, ``GET /healthz``
(no database work) through the same client.

    cd bench && ../.venv/bin/python console.py [--events 200000] [--runs 50000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import timedelta

from common import DEFAULT_POSTGRES, django_on, reachable, scratch_database
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

console = Console()


def seed(sources: int, events: int, runs: int) -> None:
    from django.utils import timezone

    from eduvault.integrations.models import Source
    from eduvault.pipeline.inbox.models import InboundEvent
    from eduvault.pipeline.sync.models import SyncRun

    rng = random.Random(1)
    now = timezone.now()
    made = [
        Source.objects.create(
            name=f"school-{i}",
            platform="openedx",
            base_url=f"https://lms{i}.example.org",
            client_id="c",
            client_secret="s",
        )
        for i in range(sources)
    ]
    statuses = ["done"] * 90 + ["pending"] * 3 + ["dead"] * 4 + ["failed"] * 2 + ["processing"]
    with Progress(console=console) as progress:
        task = progress.add_task("inbox events", total=events)
        batch = []
        for i in range(events):
            at = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
            batch.append(
                InboundEvent(
                    source=rng.choice(made),
                    event_id=f"evt-{i}",
                    type=rng.choice(
                        [
                            "org.openedx.content_authoring.course.published.v1",
                            "org.openedx.content_authoring.xblock.published.v1",
                        ]
                    ),
                    priority=rng.choice(["critical", "high", "background"]),
                    course_key=f"course-v1:Org+C{i % 300}+2026",
                    payload={},
                    received_at=at,
                    next_attempt_at=at,
                    status=rng.choice(statuses),
                    attempts=rng.choice([0, 0, 0, 1, 3]),
                    processed_at=at,
                )
            )
            if len(batch) == 5000:
                InboundEvent.objects.bulk_create(batch)
                progress.advance(task, len(batch))
                batch = []
        InboundEvent.objects.bulk_create(batch)
        progress.advance(task, len(batch))
        task = progress.add_task("sync runs", total=runs)
        batch = []
        for i in range(runs):
            at = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
            outcome = rng.choice(["applied"] * 6 + ["unchanged"] * 3 + ["failed"])
            batch.append(
                SyncRun(
                    course_key=f"course-v1:Org+C{i % 300}+2026",
                    source=rng.choice(made),
                    trigger="webhook",
                    outcome=outcome,
                    started_at=at,
                    finished_at=at + timedelta(milliseconds=80),
                    duration_ms=rng.randint(20, 5000),
                    error="the source answered 503" if outcome == "failed" else "",
                    error_code="SourceUnavailable" if outcome == "failed" else "",
                )
            )
            if len(batch) == 5000:
                SyncRun.objects.bulk_create(batch)
                progress.advance(task, len(batch))
                batch = []
        SyncRun.objects.bulk_create(batch)
        progress.advance(task, len(batch))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(label: str, call, rounds: int) -> tuple[str, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()  # warm
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    with CaptureQueriesContext(connection) as ctx:
        call()
    return label, statistics.median(times), len(ctx.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    if not reachable(args.postgres):
        raise SystemExit("this benchmark needs PostgreSQL")
    django_on(scratch_database(args.postgres, "eduvault_bench_console"), EDUVAULT_ALLOWED_HOSTS="testserver")
    seed(args.sources, args.events, args.runs)

    from django.test import Client

    from eduvault.identity.services import token_create, user_create

    staff = Client()
    staff.force_login(user_create(username="operator", role="admin", password=None))
    token = token_create(name="prometheus", role="admin")[1]
    scraper = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def ok(response):
        assert response.status_code == 200, response.content[:300]

    rows = [
        measure("GET /healthz (baseline)", lambda: ok(staff.get("/healthz")), args.rounds),
        measure("GET /console/", lambda: ok(staff.get("/console/")), args.rounds),
        measure("GET /metrics", lambda: ok(scraper.get("/metrics")), args.rounds),
        measure(
            "GET /console/runs/?outcome=failed",
            lambda: ok(staff.get("/console/runs/?outcome=failed")),
            args.rounds,
        ),
        measure("GET /console/events/", lambda: ok(staff.get("/console/events/")), args.rounds),
    ]
    base = rows[0][1]
    table = Table(
        title=f"{args.sources} sources, {args.events:,} inbox events, {args.runs:,} sync runs (PostgreSQL)",
        header_style="bold",
    )
    for column in ("request", "median ms", "× baseline", "SQL statements"):
        table.add_column(column, justify="left" if column == "request" else "right")
    for label, seconds, queries in rows:
        table.add_row(label, f"{seconds * 1000:.1f}", f"{seconds / base:.1f}", str(queries))
    console.print(table)


if __name__ == "__main__":
    main()
