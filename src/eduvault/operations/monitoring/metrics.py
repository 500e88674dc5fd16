"""``/metrics``: every metric named ``eduvault_…``, in the Prometheus text format.

The counts come from the database at scrape time (the inbox, the sync runs, the delivery
log), so every process reports the same totals and nothing resets when a worker restarts;
a scrape costs a handful of aggregate queries. Stream clients are counted in the process
that answers (each ``serve`` worker has its own). If the database cannot be read,
``eduvault_database_up`` is 0 and the database-derived metrics are left out, rather than
the scrape failing.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator

import structlog
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from eduvault.operations.monitoring import selectors
from eduvault.pipeline.feed import broadcast
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.records.selectors import records_summary

log = structlog.get_logger(__name__)

Status = InboundEvent.Status


class EduVaultCollector:
    """Reads the database at each scrape."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("eduvault_database_up", "1 if the database answered this scrape, else 0")
        started = time.perf_counter()
        try:
            families = list(self._from_database())
        except Exception as exc:  # a scrape must still answer, and say the database is down
            log.warning("metrics.database_unreadable", error=str(exc), error_code=type(exc).__name__)
            families = []
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
        yield up
        yield from families
        clients = GaugeMetricFamily(
            "eduvault_stream_clients", "Stream (SSE) clients connected to this server process"
        )
        clients.add_metric([], broadcast.client_count())
        yield clients
        took = GaugeMetricFamily("eduvault_scrape_duration_seconds", "Time this scrape spent reading")
        took.add_metric([], time.perf_counter() - started)
        yield took

    def _from_database(self) -> Iterator[Metric]:
        labels = ["source", "type", "priority"]
        received = CounterMetricFamily(
            "eduvault_events_received", "Events stored in the inbox", labels=labels
        )
        processed = CounterMetricFamily(
            "eduvault_events_processed", "Events processed successfully", labels=labels
        )
        failed = CounterMetricFamily(
            "eduvault_events_failed",
            "Events that failed for good (dead letters and permanent failures)",
            labels=labels,
        )
        rows = selectors.event_counts()
        totals: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in rows:
            key = (row["source__name"], row["type"], row["priority"])
            totals[key]["received"] += row["n"]
            totals[key][row["status"]] += row["n"]
        for key, counts in sorted(totals.items()):
            received.add_metric(list(key), counts["received"])
            processed.add_metric(list(key), counts[Status.DONE])
            failed.add_metric(list(key), counts[Status.DEAD] + counts[Status.FAILED])
        yield from (received, processed, failed)

        depth = GaugeMetricFamily(
            "eduvault_queue_depth",
            "Inbox events not yet done, per priority class and state "
            "(pending, retrying, processing, dead, failed)",
            labels=["priority", "state"],
        )
        dead = GaugeMetricFamily(
            "eduvault_dead_letters", "Dead letters waiting for a replay, per priority", labels=["priority"]
        )
        for priority, counts in sorted(selectors.queue_counts(rows).items()):
            for state, n in counts.items():
                depth.add_metric([priority, state], n)
            dead.add_metric([priority], counts["dead"])
        yield from (depth, dead)

        lag = GaugeMetricFamily(
            "eduvault_source_lag_seconds",
            "How long the oldest waiting event of a source has waited",
            labels=["source"],
        )
        state = GaugeMetricFamily(
            "eduvault_source_state", "1 for the state each source is in", labels=["source", "state"]
        )
        success = GaugeMetricFamily(
            "eduvault_source_last_success_timestamp_seconds",
            "When a sync from the source last succeeded (Unix time)",
            labels=["source"],
        )
        source_dead = GaugeMetricFamily(
            "eduvault_source_dead_letters", "Dead letters and failed events per source", labels=["source"]
        )
        for health in selectors.source_health_list():
            name = health.source.name
            lag.add_metric([name], health.lag_seconds)
            for each in selectors.STATES:
                state.add_metric([name, each], 1 if each == health.state else 0)
            if health.last_success_at is not None:
                success.add_metric([name], health.last_success_at.timestamp())
            source_dead.add_metric([name], health.dead_letters)
        yield from (lag, state, success, source_dead)

        durations = HistogramMetricFamily(
            "eduvault_sync_duration_seconds", "How long syncs took, by outcome", labels=["outcome"]
        )
        for outcome, (buckets, count, total) in sorted(selectors.sync_durations().items()):
            points = [(f"{bound:g}", n) for bound, n in zip(selectors.DURATION_BUCKETS, buckets, strict=True)]
            durations.add_metric([outcome], [*points, ("+Inf", count)], sum_value=total)
        yield durations

        deliveries = CounterMetricFamily(
            "eduvault_webhook_deliveries",
            "Outbound webhook delivery attempts by subscription and outcome (ok, failed)",
            labels=["subscription", "outcome"],
        )
        for (name, outcome), n in sorted(selectors.delivery_counts().items()):
            deliveries.add_metric([name, outcome], n)
        disabled = GaugeMetricFamily(
            "eduvault_subscriptions_disabled", "Outbound subscriptions disabled after failing"
        )
        disabled.add_metric([], selectors.subscriptions_disabled())
        outbox = GaugeMetricFamily(
            "eduvault_outbox_deliveries",
            "Deliveries in the outbox by channel and status (pending, sending, done, failed, dead)",
            labels=["channel", "status"],
        )
        for (channel, status), n in sorted(selectors.outbox_counts().items()):
            outbox.add_metric([channel, status], n)
        yield from (deliveries, disabled, outbox)
        summary = records_summary()
        records = GaugeMetricFamily("eduvault_records", "Learner records by kind", labels=["kind"])
        for kind, n in sorted(summary["by_kind"].items()):
            records.add_metric([kind], n)
        conflicts = GaugeMetricFamily(
            "eduvault_record_conflicts", "Learner records with concurrent changes the policy settled (open)"
        )
        conflicts.add_metric([], summary["conflicts"])
        held = GaugeMetricFamily("eduvault_identities_held", "Platform accounts held for an operator to link")
        held.add_metric([], summary["held_identities"])
        yield from (records, conflicts, held)


registry = CollectorRegistry(auto_describe=False)
registry.register(EduVaultCollector())
ProcessCollector(namespace="eduvault", registry=registry)


def metrics_text() -> bytes:
    return generate_latest(registry)
