"""Writing deliveries, and sending them: claimed per target under a lease, paced, retried
with the one backoff, dead-lettered after the last attempt, replayable.

Concurrency: deliveries to one target are claimed under a lock on that target (a PostgreSQL
advisory lock; SQLite's write lock), so two workers never send the same delivery, and an
ordered channel's target has at most one delivery in flight. A worker that dies loses its
lease; the sweep takes the deliveries back (at once when it died on this machine).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from eduvault.kernel.backoff import retry_delay
from eduvault.kernel.celery import configure, route
from eduvault.kernel.leases import RELEASED, lease_fields, orphaned
from eduvault.kernel.pacing import Buckets
from eduvault.kernel.priorities import check_priority, rank
from eduvault.pipeline.outbox.channels import Channel, Held, Sent, channels
from eduvault.pipeline.outbox.models import Delivery, DeliveryAttempt

log = structlog.get_logger(__name__)

Status = Delivery.Status


# -- writing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A delivery to write: to ``target`` through ``channel``, once per ``idempotency_key``."""

    target: str
    channel: str
    idempotency_key: str
    payload: Any
    priority: str = "background"
    summary: str = ""
    #: ``<kind>.<platform>`` (``grade.canvas``), for routing its sends by class, kind and platform.
    route: str = ""


def deliveries_enqueue(*, deliveries: Iterable[Outgoing], at: datetime | None = None) -> int:
    """Write deliveries in the caller's transaction (they exist if and only if it commits);
    one already written for the same target and key is left as it is (a repeat of the same
    cause writes nothing new). Returns how many were given. The deliverer of this process is
    woken when the transaction commits."""
    now = at or timezone.now()
    rows = []
    for outgoing in deliveries:
        channels.get(outgoing.channel)  # a channel nobody can send through is a bug, not data
        check_priority(outgoing.priority)
        rows.append(
            Delivery(
                target=outgoing.target,
                channel=outgoing.channel,
                idempotency_key=outgoing.idempotency_key,
                priority=outgoing.priority,
                route=outgoing.route[:100],
                payload=outgoing.payload,
                summary=outgoing.summary[:300],
                next_attempt_at=now,
                created_at=now,
            )
        )
    if rows:
        Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        transaction.on_commit(wake)
    return len(rows)


# -- waking the deliverer ----------------------------------------------------------------------

_listeners: list[Any] = []


def listen_locally(callback: Any) -> None:
    _listeners.append(callback)


def stop_listening(callback: Any) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


def wake() -> None:
    for callback in list(_listeners):
        callback()


# -- sending -----------------------------------------------------------------------------------


def target_lock(target: str) -> None:
    """Hold the target's lock to the end of the transaction (SQLite: the write lock): while
    held, none of its deliveries is claimed, so one seen pending is read after this commits."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"outbox:{target}"])


def deliveries_claim(
    *, target: str, channel: Channel, owner: str, priority: str | None = None
) -> list[Delivery]:
    """Claim the next deliveries to ``target`` that are due: for an ordered channel the
    oldest undelivered one (if it is due and nothing is in flight), else up to a batch of the
    most urgent. Returns them with their lease taken and their attempt counted."""
    now = timezone.now()
    with transaction.atomic():
        target_lock(target)
        queue = Delivery.objects.filter(target=target, channel=channel.name)
        if priority is not None:  # a worker of one class sends only that class's deliveries
            queue = queue.filter(priority=priority)
        if channel.ordered:
            head = queue.filter(status__in=(Status.PENDING, Status.SENDING)).order_by("id").first()
            if head is None or head.status != Status.PENDING or head.next_attempt_at > now:
                return []
            claimed = [head]
            if channel.batch_size > 1:
                claimed += list(
                    queue.filter(status=Status.PENDING, next_attempt_at__lte=now, id__gt=head.pk).order_by(
                        "id"
                    )[: channel.batch_size - 1]
                )
        else:
            due = list(queue.filter(status=Status.PENDING, next_attempt_at__lte=now).order_by("id")[:500])
            due.sort(key=lambda d: (rank(d.priority), d.pk))
            claimed = due[: channel.batch_size]
        if not claimed:
            return []
        lease = lease_fields(owner, channel.lease_seconds, now=now)
        Delivery.objects.filter(pk__in=[d.pk for d in claimed], status=Status.PENDING).update(
            status=Status.SENDING, attempts=F("attempts") + 1, **lease
        )
    for delivery in claimed:
        delivery.status, delivery.attempts = Status.SENDING, delivery.attempts + 1
        for name, value in lease.items():
            setattr(delivery, name, value)
    return claimed


#: Pacing per channel and target, in this process.
_pace: dict[str, Buckets] = {}
_pace_lock = threading.Lock()


def _paced(channel: Channel, target: str, count: int) -> None:
    if not channel.per_second:
        return
    with _pace_lock:
        buckets = _pace.setdefault(channel.name, Buckets(channel.per_second))
    buckets[target].acquire(count, max_wait=channel.lease_seconds / 2)


def target_send(*, target: str, channel_name: str, owner: str, priority: str | None = None) -> dict[str, int]:
    """Claim and send one round of deliveries to ``target`` (of one priority class, if
    given); returns counts by outcome."""
    channel = channels.get(channel_name)
    claimed = deliveries_claim(target=target, channel=channel, owner=owner, priority=priority)
    if not claimed:
        return {}
    started = time.perf_counter()
    try:
        channel.hold(target)
        _paced(channel, target, len(claimed))
        results = channel.send(target, claimed)
        if len(results) != len(claimed):
            raise RuntimeError(f"channel {channel.name} answered {len(results)} results for {len(claimed)}")
    except Held as held:
        _hold(claimed, owner, held)
        return {"held": len(claimed)}
    except TimeoutError as exc:  # no pacing capacity: put them back, uncounted
        _hold(claimed, owner, Held(f"paced: {exc}", seconds=1.0))
        return {"paced": len(claimed)}
    except Exception as exc:
        log.exception("outbox.send_error", channel=channel.name, target=target, deliveries=len(claimed))
        results = [Sent(ok=False, error=f"{type(exc).__name__}: {exc}")] * len(claimed)
    counts = _settle(channel, target, claimed, results, owner)
    log.info(
        "outbox.sent",
        channel=channel.name,
        target=target,
        duration_ms=int((time.perf_counter() - started) * 1000),
        **counts,
    )
    return counts


def _hold(claimed: Sequence[Delivery], owner: str, held: Held) -> None:
    Delivery.objects.filter(pk__in=[d.pk for d in claimed], lease_owner=owner).update(
        status=Status.PENDING,
        attempts=F("attempts") - 1,
        next_attempt_at=timezone.now() + timedelta(seconds=held.seconds),
        last_error=f"held: {held.reason}"[:2000],
        last_error_code="Held",
        **RELEASED,
    )


def _settle(
    channel: Channel, target: str, claimed: Sequence[Delivery], results: Sequence[Sent], owner: str
) -> dict[str, int]:
    now = timezone.now()
    limit = settings.EDUVAULT_MAX_ATTEMPTS if channel.max_attempts is None else channel.max_attempts
    counts: dict[str, int] = {}
    wait_all: float | None = None
    DeliveryAttempt.objects.bulk_create(
        [
            DeliveryAttempt(
                delivery=d,
                attempt=d.attempts,
                ok=r.ok,
                status_code=r.status_code,
                latency_ms=r.latency_ms,
                response_excerpt=r.excerpt[:500],
                error=r.error[:2000],
            )
            for d, r in zip(claimed, results)
        ]
    )
    for delivery, result in zip(claimed, results):
        mine = Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING, lease_owner=owner)
        if result.ok:
            state = "delivered"
            mine.update(
                status=Status.DONE,
                delivered_at=now,
                failing_since=None,
                last_error="",
                last_error_code="",
                **RELEASED,
            )
        else:
            since = delivery.failing_since or now
            common = {"failing_since": since, "last_error": result.error[:2000], **RELEASED}
            if result.permanent:
                state = "failed"
                mine.update(status=Status.FAILED, last_error_code="Refused", **common)
            elif limit and delivery.attempts >= limit:
                state = "dead"
                mine.update(status=Status.DEAD, last_error_code="OutOfAttempts", **common)
            else:
                state = "retrying"
                due = now + timedelta(seconds=retry_delay(delivery.attempts, retry_after=result.retry_after))
                mine.update(status=Status.PENDING, next_attempt_at=due, last_error_code="Failed", **common)
            if result.retry_after:
                wait_all = max(wait_all or 0.0, result.retry_after)
            channel.failing(target, since, result)
        counts[state] = counts.get(state, 0) + 1
    if wait_all:
        # The target asked for quiet: none of its deliveries goes before then.
        Delivery.objects.filter(
            target=target, status=Status.PENDING, next_attempt_at__lt=now + timedelta(seconds=wait_all)
        ).update(next_attempt_at=now + timedelta(seconds=wait_all))
    return counts


@dataclass(frozen=True)
class DueTarget:
    target: str
    channel: str
    priority: str
    first: int
    route: str = ""


def targets_due(
    *, now: datetime | None = None, limit: int = 200, by_priority: bool = False
) -> list[DueTarget]:
    """Targets with a delivery due, most urgent first (each class of a target apart, with
    ``by_priority``: a worker of one class takes only its own)."""
    now = now or timezone.now()
    groups = (
        Delivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .values("target", "channel", "priority", "route")
        .annotate(first=Min("id"))
        .order_by("first")[: limit * 3]
    )
    best: dict[tuple[str, ...], DueTarget] = {}
    for g in groups:
        key = (g["target"], g["channel"], g["priority"]) if by_priority else (g["target"], g["channel"])
        candidate = DueTarget(g["target"], g["channel"], g["priority"], g["first"], g["route"])
        current = best.get(key)
        if current is None or (rank(candidate.priority), candidate.first) < (
            rank(current.priority),
            current.first,
        ):
            best[key] = candidate
    return sorted(best.values(), key=lambda d: (rank(d.priority), d.first))[:limit]


def deliveries_run(*, owner: str) -> dict[str, int]:
    """One pass over every target with something due (the deliverer's loop calls this)."""
    totals: dict[str, int] = {}
    for due in targets_due():
        if due.channel not in channels:
            continue  # written by a version that had this channel; kept for when it returns
        for state, n in target_send(target=due.target, channel_name=due.channel, owner=owner).items():
            totals[state] = totals.get(state, 0) + n
    return totals


#: The Celery task that sends one round to one target (see tasks.py).
SEND_TASK = "eduvault.outbox.send"
#: Targets whose send task this process published lately: not again before it could run.
_published: dict[tuple[str, str], float] = {}


def deliveries_dispatch(*, now: datetime | None = None) -> int:
    """With a broker: publish a send task for each target with deliveries due (routed by
    ``<priority>.<kind>.<platform>``), at most once per target every few seconds; returns how
    many were published."""
    app = configure()
    published = 0
    clock = time.monotonic()
    for due in targets_due(now=now, by_priority=True):
        if due.channel not in channels:
            continue
        key = (due.target, due.channel, due.priority)
        if clock - _published.get(key, -1e9) < PUBLISH_AGAIN_AFTER:
            continue
        kind, _, platform = (due.route or f"{due.channel}.consumer").partition(".")
        try:
            app.send_task(
                SEND_TASK,
                args=[due.target, due.channel, due.priority],
                retry=False,
                **route(due.priority, kind, platform),
            )
        except Exception as exc:  # the broker is down: the deliveries stay due
            log.warning("outbox.dispatch_failed", target=due.target, error=str(exc))
            return published
        _published[key] = clock
        published += 1
    return published


#: Seconds before a target's send task is published again while its deliveries stay due.
PUBLISH_AGAIN_AFTER = 5.0


def deliveries_sweep() -> dict[str, int]:
    """Take back deliveries whose worker died: at once when it died on this machine, else
    when its lease expires. Their attempt stays counted."""
    now = timezone.now()
    sending = Delivery.objects.filter(status=Status.SENDING)
    back = {**RELEASED, "status": Status.PENDING, "next_attempt_at": now}
    orphans = orphaned(sending).update(
        **back, last_error="its worker died while sending", last_error_code="LeaseOrphaned"
    )
    expired = sending.filter(lease_expires_at__lt=now).update(
        **back, last_error="its worker's lease expired while sending", last_error_code="LeaseExpired"
    )
    if orphans or expired:
        log.info("outbox.swept", orphaned=orphans, expired=expired)
        wake()
    return {"orphaned": orphans, "expired": expired}


# -- operating -----------------------------------------------------------------------------------


def deliveries_replay(
    *,
    ids: Iterable[int] | None = None,
    status: str | None = None,
    target: str | None = None,
    channel: str | None = None,
) -> list[Delivery]:
    """Send deliveries again from the first attempt: by id, or all with a status (and
    target or channel). A delivery being sent is left alone. Sending one that arrived before
    is safe: the target drops the repeat by its idempotency key."""
    rows = Delivery.objects.exclude(status=Status.SENDING)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    if status:
        rows = rows.filter(status=status)
    if target:
        rows = rows.filter(target=target)
    if channel:
        rows = rows.filter(channel=channel)
    replayed = list(rows.order_by("id"))
    if replayed:
        Delivery.objects.filter(pk__in=[d.pk for d in replayed]).update(
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            failing_since=None,
            delivered_at=None,
            **RELEASED,
        )
        transaction.on_commit(wake)
        log.info("outbox.replayed", deliveries=len(replayed))
    return list(Delivery.objects.filter(pk__in=[d.pk for d in replayed]).order_by("id"))


def target_resume(*, target: str) -> int:
    """Deliveries held for ``target`` (a subscription just enabled again) are due now."""
    resumed = Delivery.objects.filter(target=target, status=Status.PENDING).update(
        next_attempt_at=timezone.now(), failing_since=None
    )
    transaction.on_commit(wake)
    return resumed


def target_discard(*, target: str) -> int:
    """Forget every delivery to a target that is gone (a deleted subscription)."""
    deleted, _ = Delivery.objects.filter(Q(target=target)).exclude(status=Status.SENDING).delete()
    return deleted
