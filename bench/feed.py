"""Benchmark: the live stream's fan-out latency, and the feed's read throughput.

1. Latency: 1,000 concurrent SSE clients on `eduvault serve` (uvicorn, PostgreSQL,
   LISTEN/NOTIFY); a change is applied in this process, and the clock runs from its commit
   to its arrival at each client: p50/p95/max over every client and sample.
2. Throughput: the feed read page by page (1,000 changes a page) through the selector and
   through the HTTP API, against reading the same rows with one plain SQL query, in the
   same run: changes per second and the ratios.

    cd bench && ../.venv/bin/python feed.py [--clients 1000] [--samples 10] [--changes 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from common import (
    DEFAULT_POSTGRES,
    Process,
    django_on,
    free_port,
    percentile,
    reachable,
    scratch_database,
    wait_http,
)
from rich.console import Console
from rich.table import Table

console = Console()


async def stream_clients(
    base: str, token: str, count: int, ready: asyncio.Event, arrivals: dict[int, list[float]]
):
    import httpx

    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    connected = 0
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(10, read=None)) as client:

        async def one() -> None:
            nonlocal connected
            headers = {"Authorization": f"Bearer {token}"}
            async with client.stream("GET", f"{base}/api/v1/stream", headers=headers) as response:
                connected += 1
                if connected == count:
                    ready.set()
                buffer = b""
                async for chunk in response.aiter_raw():
                    now = time.perf_counter()
                    buffer += chunk
                    while b"\n\n" in buffer:
                        event, buffer = buffer.split(b"\n\n", 1)
                        if event.startswith(b"id: "):
                            cursor = int(event[4 : event.index(b"\n")])
                            arrivals.setdefault(cursor, []).append(now)

        await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)


def latency(base: str, token: str, clients: int, samples: int) -> list[float]:
    from eduvault.integrations.openedx.simulator.synthetic import synthetic_course
    from eduvault.pipeline.feed.models import FeedEntry
    from eduvault.pipeline.sync.services import course_sync_blocks

    course = synthetic_course(200, run="LAT")
    course_sync_blocks(course_key=course.course_key, blocks=course.blocks_response())
    arrivals: dict[int, list[float]] = {}
    latencies: list[float] = []

    async def run() -> None:
        ready = asyncio.Event()
        task = asyncio.create_task(stream_clients(base, token, clients, ready, arrivals))
        await asyncio.wait_for(ready.wait(), 120)
        await asyncio.sleep(1)
        problem = course.of_type("problem")[0]
        for n in range(samples):
            course.rename(problem, f"Problem, edit {n}")
            blocks = course.blocks_response()
            committed = await asyncio.to_thread(_sync_and_time, course_sync_blocks, course.course_key, blocks)
            cursor = await asyncio.to_thread(
                lambda: FeedEntry.objects.order_by("-cursor").values_list("cursor", flat=True).first()
            )
            deadline = time.perf_counter() + 30
            while len(arrivals.get(cursor, [])) < clients and time.perf_counter() < deadline:
                await asyncio.sleep(0.01)
            got = arrivals.get(cursor, [])
            if len(got) < clients:
                raise RuntimeError(f"sample {n}: only {len(got)} of {clients} clients got cursor {cursor}")
            latencies.extend(t - committed for t in got)
            await asyncio.sleep(0.5)
        task.cancel()

    asyncio.run(run())
    return latencies


def _sync_and_time(sync, key, blocks) -> float:
    sync(course_key=key, blocks=blocks)
    return time.perf_counter()  # the transaction has committed when the call returns


def throughput(base: str, token: str, changes: int) -> dict[str, float]:
    import httpx
    from django.db import connection

    from eduvault.integrations.openedx.simulator.synthetic import synthetic_course
    from eduvault.pipeline.feed.models import FeedEntry
    from eduvault.pipeline.feed.selectors import Scope, feed_read
    from eduvault.pipeline.sync.services import course_sync_blocks

    course = synthetic_course(changes, run="THR")
    course_sync_blocks(course_key=course.course_key, blocks=course.blocks_response())
    total = FeedEntry.objects.count()
    out: dict[str, float] = {"changes": total}

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cursor, course_id, run_id, op, kind, external_id, before, after FROM sync_change ORDER BY cursor"
        )
        rows = cursor.fetchall()
    out["plain SQL, one query"] = len(rows) / (time.perf_counter() - t0)

    t0, after, read = time.perf_counter(), 0, 0
    while True:
        page = feed_read(after=after, limit=1000, scope=Scope())
        if not page:
            break
        read += len(page)
        after = page[-1].cursor
    out["feed selector, pages of 1,000 (JSON ready)"] = read / (time.perf_counter() - t0)

    t0, after, read = time.perf_counter(), 0, 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        while True:
            body = client.get(f"{base}/api/v1/changes", params={"after": after, "limit": 1000}).json()
            if not body["results"]:
                break
            read += len(body["results"])
            after = body["next_cursor"]
    out["GET /api/v1/changes, pages of 1,000"] = read / (time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--changes", type=int, default=50_000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    if not reachable(args.postgres):
        raise SystemExit("this benchmark needs PostgreSQL")
    database = scratch_database(args.postgres, "eduvault_bench_feed")
    django_on(database)
    from eduvault.identity.services import token_create

    _, token = token_create(name="bench", role="admin")
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="eduvault-bench-"))
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "EDUVAULT_AUTO_MIGRATE": "0",
        "EDUVAULT_LOG_LEVEL": "WARNING",
        "EDUVAULT_RECONCILE_SECONDS": "0",
        "EDUVAULT_DB_POOL_MAX": "40",
    }
    server = Process("serve", "--port", str(port), env=env, log=logs / "serve.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/api/v1/me")
        with console.status(f"{args.clients} stream clients, {args.samples} changes…"):
            lat = latency(base, token, args.clients, args.samples)
        table = Table(
            title=f"Change → arrival at {args.clients} SSE clients (one server process, LISTEN/NOTIFY)",
            header_style="bold",
        )
        for column in ("deliveries", "p50 ms", "p95 ms", "max ms"):
            table.add_column(column, justify="right")
        table.add_row(
            f"{len(lat):,}",
            f"{percentile(lat, 50) * 1000:.0f}",
            f"{percentile(lat, 95) * 1000:.0f}",
            f"{max(lat) * 1000:.0f}",
        )
        console.print(table)
        with console.status("feed read throughput…"):
            rates = throughput(base, token, args.changes)
    finally:
        server.stop()
    total = rates.pop("changes")
    baseline = rates["plain SQL, one query"]
    table = Table(title=f"Reading {total:,.0f} changes in order", header_style="bold")
    for column in ("reader", "changes/s", "vs plain SQL"):
        table.add_column(column, justify="left" if column == "reader" else "right")
    for name, rate in rates.items():
        table.add_row(name, f"{rate:,.0f}", f"{rate / baseline:.2f}")
    console.print(table)


if __name__ == "__main__":
    main()
