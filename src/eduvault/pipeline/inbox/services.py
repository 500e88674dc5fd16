"""Receiving, claiming, processing and replaying inbound events.

Every event is stored in the inbox before the sender hears 2xx (invariant 1), and the same
source and event id is stored once. The source's integration verifies a webhook and parses
it into the work it asks for (a subject, e.g. a course, and its key). Processing is per
subject: a worker claims every pending event of it under a lease, has the work done once by
the handler registered for its kind (events are triggers, never deltas: out-of-order or old
events cannot regress anything), and settles them all with the result. A burst of events for
one subject coalesces: the first is processed at once, the rest wait until the subject has
been quiet for a moment and then share one run. Transient failures retry with exponential
backoff and jitter; permanent ones fail at once; after the last attempt an event is
dead-lettered, and can be replayed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from eduvault.integrations.base import Arrival, webhook_receiver
from eduvault.integrations.models import Source
from eduvault.integrations.services import source_get
from eduvault.kernel.backoff import retry_delay
from eduvault.kernel.errors import EduVaultError, PermissionDenied, SourceRateLimited
from eduvault.kernel.leases import RELEASED, lease_fields, orphaned, worker_name
from eduvault.kernel.priorities import check_priority, rank
from eduvault.pipeline.inbox import dispatch
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.inbox.work import coalesces, work_do

log = structlog.get_logger(__name__)

Status = InboundEvent.Status


# -- receiving ---------------------------------------------------------------------------


#: Sources by name, re-read after a few seconds: the webhook path's one avoidable query. A
#: new webhook secret (a rotation) is in effect within that time.
_SOURCE_TTL = 5.0
_sources: dict[str, tuple[float, Source]] = {}


def _source(name: str) -> Source:
    cached = _sources.get(name)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    source = source_get(name=name)
    _sources[name] = (time.monotonic() + _SOURCE_TTL, source)
    return source


def event_receive(
    *, source_name: str, body: bytes, headers: Mapping[str, str]
) -> list[tuple[InboundEvent, bool]]:
    """Verify, parse and store a webhook delivery (its platform's integration says how).
    Returns each event with whether it is new.

    Nothing is stored unless the signature and the whole body are valid.
    """
    source = _source(source_name)
    if not source.enabled:
        reason = f": {source.disabled_reason}" if source.disabled_reason else ""
        raise PermissionDenied(f"source {source.name!r} is disabled{reason}")
    arrivals = webhook_receiver(source).receive(body=body, headers=headers)
    return [arrival_store(source=source, arrival=a, via=InboundEvent.Via.WEBHOOK) for a in arrivals]


def priority_of(arrival: Arrival) -> str:
    """The arrival's priority class: the configuration's for its type, else the type's own."""
    return check_priority(settings.EDUVAULT_EVENT_PRIORITIES.get(arrival.type) or arrival.priority)


def arrival_store(*, source: Source, arrival: Arrival, via: str) -> tuple[InboundEvent, bool]:
    """Store an event once per (source, id), and hand its subject to a worker once it is
    committed. Returns (event, created).

    One INSERT, committed by itself: accepted means stored. (Whether a burst of events for
    one subject coalesces is decided by the worker that claims them, not here, so the intake
    stays one statement.)
    """
    now = timezone.now()
    priority = priority_of(arrival)
    row = {
        "source": source,
        "event_id": arrival.event_id,
        "type": arrival.type,
        "priority": priority,
        "subject": arrival.subject,
        "subject_key": arrival.subject_key,
        "payload": arrival.payload,
        "event_time": arrival.time,
        "via": via,
        "received_at": now,
        "next_attempt_at": now,
        "request_id": str(structlog.contextvars.get_contextvars().get("request_id", ""))[:64],
    }
    try:
        if connection.in_atomic_block:
            with transaction.atomic():  # a savepoint: a duplicate must not break the caller's transaction
                stored = InboundEvent.objects.create(**row)
        else:
            stored = InboundEvent.objects.create(**row)  # autocommit: stored once this returns
        transaction.on_commit(lambda: dispatch.event_dispatch(stored))
    except IntegrityError:
        # Delivered before (or twice at the same moment): the first delivery stored it.
        existing = InboundEvent.objects.filter(source=source, event_id=arrival.event_id).first()
        if existing is None:  # pragma: no cover - an integrity error of another kind
            raise
        return existing, False
    log.info(
        "event.received",
        inbox_id=stored.pk,
        event_id=arrival.event_id,
        type=arrival.type,
        subject=arrival.subject,
        key=arrival.subject_key,
        source=source.name,
        via=via,
        priority=priority,
    )
    return stored, True


# -- claiming and processing --------------------------------------------------------------


@dataclass
class Outcome:
    """What processing one subject's events came to."""

    state: str  # done, retrying, failed, dead, busy, waiting, nothing
    events: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    due_at: datetime | None = None


def subject_claim(
    *, source_id: int, subject: str, key: str, owner: str
) -> tuple[list[InboundEvent], Outcome | None]:
    """Claim, under one lease, every pending event of a subject, if it is due and no other
    worker holds a live lease on it. Returns (claimed, why not).

    A subject is due when its events' retry time has come and, if they started arriving
    within ``EDUVAULT_COALESCE_SECONDS`` of its last processing (a burst), once no event has
    come for that long (or the oldest has waited ``EDUVAULT_COALESCE_MAX_SECONDS``): the
    first event of a burst is processed at once, the rest share one run after it.
    """
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Claims for one subject queue up here; SQLite's write lock does the same.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"inbox:{source_id}:{subject}:{key}"]
                )
        events = InboundEvent.objects.filter(source_id=source_id, subject=subject, subject_key=key)
        state = events.aggregate(
            busy=Count("id", filter=Q(status=Status.PROCESSING, lease_expires_at__gt=now)),
            waiting=Count("id", filter=Q(status=Status.PENDING)),
            retry_at=Max("next_attempt_at", filter=Q(status=Status.PENDING)),
            first=Min("received_at", filter=Q(status=Status.PENDING)),
            last=Max("received_at", filter=Q(status=Status.PENDING)),
            done=Max("processed_at", filter=Q(status=Status.DONE)),
        )
        if state["busy"]:
            return [], Outcome("busy")
        if not state["waiting"]:
            return [], Outcome("nothing")
        due_at = state["retry_at"]
        window = timedelta(seconds=settings.EDUVAULT_COALESCE_SECONDS if coalesces(subject) else 0)
        if window and state["done"] is not None and state["first"] - state["done"] < window:
            # These events came during or just after the last run: a burst. Wait for it to
            # settle (the subject quiet for a window), but not forever.
            quiet = min(
                state["last"] + window,
                state["first"] + timedelta(seconds=settings.EDUVAULT_COALESCE_MAX_SECONDS),
            )
            due_at = max(due_at, quiet)
        if due_at > now:
            return [], Outcome("waiting", due_at=due_at)
        lease = lease_fields(owner, settings.EDUVAULT_LEASE_SECONDS, now=now)
        pending = list(events.filter(status=Status.PENDING).order_by("id"))
        InboundEvent.objects.filter(pk__in=[e.pk for e in pending], status=Status.PENDING).update(
            status=Status.PROCESSING, attempts=F("attempts") + 1, **lease
        )
    for e in pending:
        e.status, e.attempts = Status.PROCESSING, e.attempts + 1
        for name, value in lease.items():
            setattr(e, name, value)
    return pending, None


def event_process(*, event_id: int, owner: str | None = None) -> Outcome:
    """Process the event's subject: claim its pending events, do the work once, settle them."""
    event = InboundEvent.objects.select_related("source").filter(pk=event_id).first()
    if event is None:
        return Outcome("nothing")
    return subject_process(source=event.source, subject=event.subject, key=event.subject_key, owner=owner)


def subject_process(*, source: Source, subject: str, key: str, owner: str | None = None) -> Outcome:
    owner = owner or worker_name()
    claimed, why_not = subject_claim(source_id=source.pk, subject=subject, key=key, owner=owner)
    if why_not is not None:
        return why_not
    # Every line logged while this subject is processed names the events and the requests
    # that delivered them (the handler's own lines add, e.g., the run).
    with structlog.contextvars.bound_contextvars(
        inbox_ids=[e.pk for e in claimed], request_ids=sorted({e.request_id for e in claimed if e.request_id})
    ):
        return _process_claimed(source, subject, key, claimed, owner)


def _process_claimed(
    source: Source, subject: str, key: str, claimed: list[InboundEvent], owner: str
) -> Outcome:
    t0 = time.perf_counter()
    ids = [e.pk for e in claimed]
    try:
        result = work_do(source=source, subject=subject, key=key, events=claimed)
    except Exception as exc:
        return _settle_failure(source, subject, key, claimed, exc, owner, t0)
    settled = InboundEvent.objects.filter(pk__in=ids, status=Status.PROCESSING, lease_owner=owner).update(
        status=Status.DONE,
        processed_at=timezone.now(),
        result=result,
        last_error="",
        last_error_code="",
        **RELEASED,
    )
    log.info(
        "events.processed",
        subject=subject,
        key=key,
        source=source.name,
        events=len(claimed),
        settled=settled,
        duration_ms=int((time.perf_counter() - t0) * 1000),
        **result,
    )
    _follow_up(source, subject, key)
    return Outcome("done", events=len(claimed), result=result)


def _follow_up(source: Source, subject: str, key: str) -> None:
    """Events that arrived during the work waited for it: queue their subject for when it is due."""
    later = (
        InboundEvent.objects.filter(source=source, subject=subject, subject_key=key, status=Status.PENDING)
        .order_by("-next_attempt_at")
        .first()
    )
    if later is not None:
        dispatch.subject_dispatch(
            later, countdown=max(0.0, (later.next_attempt_at - timezone.now()).total_seconds())
        )


def _transient(exc: Exception) -> bool:
    if isinstance(exc, EduVaultError):
        return exc.transient
    return isinstance(exc, DatabaseError)  # a lost connection, a deadlock, a timeout


def _settle_failure(
    source: Source, subject: str, key: str, claimed: list[InboundEvent], exc: Exception, owner: str, t0: float
) -> Outcome:
    now = timezone.now()
    detail = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
    attempts = max(e.attempts for e in claimed)
    ids = [e.pk for e in claimed]
    mine = InboundEvent.objects.filter(pk__in=ids, status=Status.PROCESSING, lease_owner=owner)
    common = {"last_error": detail[:2000], "last_error_code": type(exc).__name__, **RELEASED}
    if not _transient(exc):
        state = "failed"
        mine.update(status=Status.FAILED, processed_at=now, **common)
    elif attempts >= settings.EDUVAULT_MAX_ATTEMPTS:
        state = "dead"
        mine.update(status=Status.DEAD, processed_at=now, **common)
    else:
        state = "retrying"
        retry_after = exc.retry_after if isinstance(exc, SourceRateLimited) else None
        due = now + timedelta(seconds=retry_delay(attempts, retry_after=retry_after))
        mine.update(status=Status.PENDING, next_attempt_at=due, **common)
    fields = {
        "subject": subject,
        "key": key,
        "source": source.name,
        "events": len(claimed),
        "attempts": attempts,
        "outcome": state,
        "error": detail,
        "error_code": type(exc).__name__,
        "duration_ms": int((time.perf_counter() - t0) * 1000),
    }
    if isinstance(exc, EduVaultError | DatabaseError):
        log.warning("events.failed", **fields)
    else:  # not a failure we know: a bug, with its traceback, once
        log.exception("events.failed", **fields)
    _follow_up(source, subject, key)
    return Outcome(state, events=len(claimed))


# -- finding work, and the sweeper --------------------------------------------------------


@dataclass(frozen=True)
class DueSubject:
    source_id: int
    subject: str
    key: str
    priority: str
    first_event: int
    due_at: datetime


def subjects_due(*, now: datetime | None = None, limit: int = 100) -> list[DueSubject]:
    """Subjects with pending events whose retry time has come, and no live lease, most
    urgent first. (Whether a burst is still settling is decided when one is claimed.)"""
    now = now or timezone.now()
    busy = set(
        InboundEvent.objects.filter(status=Status.PROCESSING, lease_expires_at__gt=now).values_list(
            "source_id", "subject", "subject_key"
        )
    )
    groups = (
        InboundEvent.objects.filter(status=Status.PENDING)
        .values("source_id", "subject", "subject_key", "priority")
        .annotate(due_at=Max("next_attempt_at"), first=Min("id"))
        .order_by("first")[: limit * 4]
    )
    best: dict[tuple[int, str, str], DueSubject] = {}
    for g in groups:
        key = (g["source_id"], g["subject"], g["subject_key"])
        if key in busy:
            continue
        current = best.get(key)
        due_at = max(g["due_at"], current.due_at) if current else g["due_at"]
        priority = min(g["priority"], current.priority, key=rank) if current else g["priority"]
        first = min(g["first"], current.first_event) if current else g["first"]
        best[key] = DueSubject(*key, priority, first, due_at)
    due = [d for d in best.values() if d.due_at <= now]
    due.sort(key=lambda d: (rank(d.priority), d.due_at))
    return due[:limit]


def leases_reclaim() -> int:
    """Take back at once the leases that processes of this machine held when they died (a
    crash, a power cut): their events are due again now, rather than when the lease would
    have expired. Leases of live processes, and of other machines, are left alone.
    Returns how many events were put back or dead-lettered."""
    lost = orphaned(InboundEvent.objects.filter(status=Status.PROCESSING))
    subjects = list(lost.values_list("source_id", "subject", "subject_key").distinct())
    if not subjects:
        return 0
    dead, taken = _leases_lost(
        lost,
        now=timezone.now(),
        reason="the worker holding it on this machine died before it finished; taken back at once",
        code="LeaseOrphaned",
    )
    for source_id, subject, key in subjects:
        event = (
            InboundEvent.objects.filter(
                source_id=source_id, subject=subject, subject_key=key, status=Status.PENDING
            )
            .order_by("id")
            .first()
        )
        if event is not None:
            dispatch.subject_dispatch(event)
    log.warning("inbox.leases_reclaimed", events=taken, dead=dead, subjects=len(subjects))
    return taken + dead


def _leases_lost(events: Any, *, now: datetime, reason: str, code: str) -> tuple[int, int]:
    """Events whose worker is gone (``events``: PROCESSING ones): dead-lettered if that was
    their last attempt, else due again now. Returns (dead, released)."""
    common = {"last_error": reason, "last_error_code": code, **RELEASED}
    dead = events.filter(attempts__gte=settings.EDUVAULT_MAX_ATTEMPTS).update(
        status=Status.DEAD, processed_at=now, **common
    )
    released = events.update(status=Status.PENDING, next_attempt_at=now, dispatched_at=None, **common)
    return dead, released


def inbox_sweep(*, redispatch_after: float | None = None, process_overdue: bool = False) -> dict[str, int]:
    """Take back leases of dead workers, release expired ones, and hand again to the broker
    the due events it may have lost. With ``process_overdue`` (in workers), a subject still
    waiting three hand-overs later is processed right here: a broker, or a consumer of it,
    that does not recover cannot hold events back. Idempotent; every worker may run it."""
    now = timezone.now()
    if redispatch_after is None:
        redispatch_after = settings.EDUVAULT_REDISPATCH_SECONDS
    orphans = leases_reclaim()
    dead, released = _leases_lost(
        InboundEvent.objects.filter(status=Status.PROCESSING, lease_expires_at__lt=now),
        now=now,
        reason="the worker's lease expired before it finished (the worker died or stalled)",
        code="LeaseExpired",
    )
    redispatched = processed = 0
    stale = now - timedelta(seconds=redispatch_after)
    overdue = now - timedelta(seconds=3 * redispatch_after)
    for due in subjects_due(now=now):
        if process_overdue and due.due_at < overdue:
            outcome = subject_process(
                source=Source.objects.get(pk=due.source_id), subject=due.subject, key=due.key
            )
            processed += outcome.state not in ("busy", "waiting", "nothing")
            continue
        events = InboundEvent.objects.filter(
            source_id=due.source_id, subject=due.subject, subject_key=due.key, status=Status.PENDING
        )
        if events.filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale)).exists():
            event = events.order_by("id").first()
            if event is not None and dispatch.subject_dispatch(event):
                redispatched += 1
    counts = {
        "orphaned": orphans,
        "released": released,
        "dead": dead,
        "redispatched": redispatched,
        "processed": processed,
    }
    if any(counts.values()):
        log.info("inbox.swept", **counts)
    return counts


# -- replay --------------------------------------------------------------------------------


def events_replay(
    *, ids: Iterable[int] | None = None, status: str | None = None, source: Source | None = None
) -> list[InboundEvent]:
    """Put events back in the queue, as new: by id, or all with a status (and source).

    Replaying an event whose work is already done is a no-op: the sync it triggers finds the
    course unchanged.
    """
    events = InboundEvent.objects.all()
    if ids is not None:
        events = events.filter(pk__in=list(ids))
    if status:
        events = events.filter(status=status)
    if source is not None:
        events = events.filter(source=source)
    now = timezone.now()
    replayed = list(events.exclude(status=Status.PROCESSING).order_by("id"))
    if not replayed:
        return []
    InboundEvent.objects.filter(pk__in=[e.pk for e in replayed]).update(
        status=Status.PENDING,
        attempts=0,
        next_attempt_at=now,
        processed_at=None,
        dispatched_at=None,
        **RELEASED,
    )
    for event in replayed:
        event.refresh_from_db()
    seen = set()
    for event in replayed:
        key = (event.source_id, event.subject, event.subject_key)
        if key not in seen:
            seen.add(key)
            transaction.on_commit(lambda event=event: dispatch.subject_dispatch(event))
    log.info("events.replayed", events=len(replayed), subjects=len(seen))
    return replayed
