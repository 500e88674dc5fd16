"""What the operator needs to see: each source's health, the queues, recent sync activity.

Everything here is read from the database, the one place every process (server, workers,
the CLI) writes to, so the console and ``/metrics`` tell the same story whichever process
answers, and nothing is lost when a process restarts. Each function is a fixed, small
number of aggregate queries, whatever the number of events or runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from eduvault.integrations.models import Source
from eduvault.kernel.errors import SourceRejected
from eduvault.pipeline.feed.models import Subscription
from eduvault.pipeline.feed.webhooks import CHANNEL as WEBHOOK_CHANNEL
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.outbox.models import Delivery, DeliveryAttempt
from eduvault.pipeline.sync.models import SyncRun

Status = InboundEvent.Status

#: A source's states, worst first (the order the console sorts them in).
STATES = ("credentials rejected", "failing", "lagging", "healthy", "disabled")


@dataclass(frozen=True)
class SourceHealth:
    source: Source
    state: str
    #: Why the state is what it is, in a sentence (empty when healthy).
    reason: str
    last_event_at: datetime | None
    last_success_at: datetime | None
    #: Seconds the oldest unfinished event of this source has been waiting (0: none waiting).
    lag_seconds: float
    runs_24h: int
    failures_24h: int
    dead_letters: int
    last_error: str

    @property
    def error_rate(self) -> float:
        """Failed syncs among this source's syncs over the last 24 hours (0..1)."""
        return self.failures_24h / self.runs_24h if self.runs_24h else 0.0


def _state(
    *,
    source: Source,
    last_run: SyncRun | None,
    lag: float,
    dead_since_success: int,
) -> tuple[str, str]:
    if not source.enabled:
        return "disabled", "the source is disabled"
    if last_run is not None and last_run.outcome == SyncRun.Outcome.FAILED:
        if last_run.error_code == SourceRejected.__name__:
            return "credentials rejected", last_run.error
        return "failing", last_run.error
    if dead_since_success:
        plural = "s" * (dead_since_success > 1)
        return "failing", f"{dead_since_success} dead letter{plural} failed after the last successful sync"
    if lag > settings.EDUVAULT_LAG_WARN_SECONDS:
        return "lagging", f"the oldest waiting event has waited {int(lag)} s"
    return "healthy", ""


def source_health_list(*, now: datetime | None = None) -> list[SourceHealth]:
    """Every source's health, worst first. Four queries, whatever the number of sources."""
    now = now or timezone.now()
    day_ago = now - timedelta(hours=24)
    sources = list(Source.objects.order_by("name"))
    dead = Q(status__in=[Status.DEAD, Status.FAILED])
    events = {
        row["source"]: row
        for row in InboundEvent.objects.values("source").annotate(
            last_event=Max("received_at"),
            oldest_waiting=Min("received_at", filter=Q(status__in=[Status.PENDING, Status.PROCESSING])),
            dead=Count("id", filter=dead),
            last_dead=Max("processed_at", filter=dead),
        )
    }
    runs = {
        row["source"]: row
        for row in SyncRun.objects.filter(source__isnull=False)
        .values("source")
        .annotate(
            last_success=Max("finished_at", filter=~Q(outcome=SyncRun.Outcome.FAILED)),
            last_id=Max("id"),
            runs_24h=Count("id", filter=Q(started_at__gte=day_ago)),
            failures_24h=Count("id", filter=Q(started_at__gte=day_ago, outcome=SyncRun.Outcome.FAILED)),
        )
    }
    last_runs = SyncRun.objects.in_bulk([row["last_id"] for row in runs.values() if row["last_id"]])
    out = []
    for source in sources:
        event_row = events.get(source.pk, {})
        run_row = runs.get(source.pk, {})
        waiting_since = event_row.get("oldest_waiting")
        lag = max(0.0, (now - waiting_since).total_seconds()) if waiting_since else 0.0
        last_run = last_runs.get(run_row.get("last_id"))
        # Dead letters, one of them settled after the last success: the source is failing.
        failed_since = _after(event_row.get("last_dead"), run_row.get("last_success"))
        state, reason = _state(
            source=source,
            last_run=last_run,
            lag=lag,
            dead_since_success=event_row.get("dead", 0) if failed_since else 0,
        )
        out.append(
            SourceHealth(
                source=source,
                state=state,
                reason=reason,
                last_event_at=event_row.get("last_event"),
                last_success_at=run_row.get("last_success"),
                lag_seconds=lag,
                runs_24h=run_row.get("runs_24h", 0),
                failures_24h=run_row.get("failures_24h", 0),
                dead_letters=event_row.get("dead", 0),
                last_error=last_run.error if last_run is not None else "",
            )
        )
    out.sort(key=lambda h: (STATES.index(h.state), h.source.name))
    return out


def _after(moment: datetime | None, reference: datetime | None) -> bool:
    return moment is not None and (reference is None or moment > reference)


#: The queue states the console and /metrics count, per priority class.
QUEUE_STATES = ("pending", "retrying", "processing", "dead", "failed")


def queue_counts(rows: list[dict] | None = None) -> dict[str, dict[str, int]]:
    """{priority: {pending, retrying, processing, dead, failed}}, critical first, from the
    rows of :func:`event_counts` (or, when not given, one narrower query of its own). An
    event waiting for a later attempt (it failed before) counts as retrying, not pending."""
    if rows is None:
        rows = _grouped(InboundEvent.objects.exclude(status=Status.DONE), "priority", "status")
    out: dict[str, dict[str, int]] = {
        p: dict.fromkeys(QUEUE_STATES, 0) for p in ("critical", "high", "background")
    }
    for row in rows:
        if row["status"] == Status.DONE:
            continue
        counts = out.setdefault(row["priority"], dict.fromkeys(QUEUE_STATES, 0))
        if row["status"] == Status.PENDING:
            counts["retrying"] += row["retrying"]
            counts["pending"] += row["n"] - row["retrying"]
        else:
            counts[row["status"]] += row["n"]
    return out


@dataclass(frozen=True)
class HourOfSyncs:
    start: datetime
    applied: int
    unchanged: int
    failed: int

    @property
    def total(self) -> int:
        return self.applied + self.unchanged + self.failed


def sync_activity(*, hours: int = 24, now: datetime | None = None) -> list[HourOfSyncs]:
    """Syncs per hour by outcome over the last ``hours`` hours, oldest first, every hour
    present (an hour without syncs has zeros). One query."""
    now = now or timezone.now()
    last = now.replace(minute=0, second=0, microsecond=0)
    first = last - timedelta(hours=hours - 1)
    counts: dict[tuple[datetime, str], int] = {}
    rows = (
        SyncRun.objects.filter(started_at__gte=first)
        .annotate(hour=TruncHour("started_at"))
        .values("hour", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[(row["hour"], row["outcome"])] = row["n"]
    out = []
    for i in range(hours):
        start = first + timedelta(hours=i)
        out.append(
            HourOfSyncs(
                start=start,
                applied=counts.get((start, SyncRun.Outcome.APPLIED), 0),
                unchanged=counts.get((start, SyncRun.Outcome.UNCHANGED), 0),
                failed=counts.get((start, SyncRun.Outcome.FAILED), 0),
            )
        )
    return out


#: Upper bounds (seconds) of the sync duration histogram's buckets.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def sync_durations() -> dict[str, tuple[list[int], int, float]]:
    """Per outcome: (cumulative count per bucket of ``DURATION_BUCKETS``, count, sum of
    seconds) over every run recorded: one query."""
    buckets = {
        f"le{i}": Count("id", filter=Q(duration_ms__lte=int(bound * 1000)))
        for i, bound in enumerate(DURATION_BUCKETS)
    }
    rows = SyncRun.objects.values("outcome").annotate(n=Count("id"), ms=Sum("duration_ms"), **buckets)
    return {
        row["outcome"]: (
            [row[f"le{i}"] for i in range(len(DURATION_BUCKETS))],
            row["n"],
            (row["ms"] or 0) / 1000,
        )
        for row in rows.order_by()
    }


def delivery_counts() -> dict[tuple[str, str], int]:
    """{(subscription name, "ok" or "failed"): webhook delivery attempts}: two queries."""
    names = {s.target: s.name for s in Subscription.objects.only("id", "name")}
    rows = (
        DeliveryAttempt.objects.filter(delivery__channel=WEBHOOK_CHANNEL)
        .values("delivery__target", "ok")
        .annotate(n=Count("id"))
        .order_by()
    )
    out: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (names.get(row["delivery__target"], row["delivery__target"]), "ok" if row["ok"] else "failed")
        out[key] = out.get(key, 0) + row["n"]
    return out


def outbox_counts() -> dict[tuple[str, str], int]:
    """{(channel, status): deliveries} over the whole outbox: one query."""
    rows = Delivery.objects.values("channel", "status").annotate(n=Count("id")).order_by()
    return {(row["channel"], row["status"]): row["n"] for row in rows}


def subscriptions_disabled() -> int:
    return Subscription.objects.filter(enabled=False).count()


def event_counts() -> list[dict]:
    """Inbox events grouped by source, type, priority and status, with how many of each
    group are waiting for a retry: one query."""
    return _grouped(InboundEvent.objects.all(), "source__name", "type", "priority", "status")


def _grouped(events: QuerySet[InboundEvent], *columns: str) -> list[dict]:
    return list(
        events.values(*columns)
        .annotate(n=Count("id"), retrying=Count("id", filter=Q(status=Status.PENDING, attempts__gt=0)))
        .order_by()
    )


def readiness(*, timeout: float = 2.0) -> dict[str, str]:
    """{dependency: "ok" or why it is down} for the database and, when configured, the
    broker and the notification Redis."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"{type(exc).__name__}: {exc}"[:300]
    for name, url in (("broker", settings.EDUVAULT_BROKER_URL), ("notify", settings.EDUVAULT_NOTIFY_URL)):
        if url:
            checks[name] = _broker_check(url, timeout)
    return checks


def _broker_check(url: str, timeout: float) -> str:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=timeout, transport_options={"max_retries": 0}) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return "ok"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
