"""Receiving, claiming, processing and replaying inbound events.

Every event is stored in the inbox before the sender hears 2xx (invariant 1), and the same
source and event id is stored once. Processing is per course: a worker claims every pending
event of a course under a lease, syncs the course once (the sync re-reads the platform, so
events are triggers, never deltas: out-of-order or old events cannot regress a course), and
marks them all done with that run. A burst of events for one course coalesces: the first
syncs at once, the rest wait until the course has been quiet for a moment and then share a
single sync. Transient failures retry with exponential backoff and jitter; permanent ones
fail at once; after the last attempt an event is dead-lettered, and can be replayed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from eduvault.connectors.models import Source
from eduvault.connectors.services import source_get
from eduvault.core.bodies import parse_json
from eduvault.core.processes import process_gone, this_process
from eduvault.exceptions import AuthenticationFailed, EduVaultError, PermissionDenied, SourceRateLimited
from eduvault.inbox import dispatch
from eduvault.inbox.models import InboundEvent
from eduvault.inbox.signatures import SignatureError, verify
from eduvault.inbox.types import CloudEvent, MalformedEvent, parse_cloud_event, priority_of
from eduvault.sync.models import SyncRun
from eduvault.sync.services import course_sync

log = structlog.get_logger(__name__)

Status = InboundEvent.Status


def worker_name() -> str:
    """Who holds a lease: host, process and thread, for the operator reading the inbox."""
    return this_process().owner()


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


def event_receive(*, source_name: str, body: bytes, headers: Mapping[str, str]) -> tuple[InboundEvent, bool]:
    """Verify, validate and store a webhook delivery. Returns (event, created).

    Nothing is stored unless the signature, the JSON and the CloudEvent are all valid.
    """
    source = _source(source_name)
    if not source.enabled:
        raise PermissionDenied(f"source {source.name!r} is disabled")
    if not source.webhook_secrets:
        raise AuthenticationFailed(
            f"source {source.name!r} has no webhook secret; add one to accept webhooks"
        )
    try:
        webhook_id = verify(source.webhook_secrets, headers, body)
    except SignatureError as exc:
        raise AuthenticationFailed(f"webhook signature refused: {exc}") from None
    document = parse_json(body)
    event = parse_cloud_event(document)
    if event.id != webhook_id:
        raise MalformedEvent(
            f"the CloudEvent id {event.id!r} differs from the webhook-id header {webhook_id!r}"
        )
    return event_store(source=source, event=event, payload=document, via=InboundEvent.Via.WEBHOOK)


def event_store(
    *, source: Source, event: CloudEvent, payload: dict[str, Any], via: str
) -> tuple[InboundEvent, bool]:
    """Store an event once per (source, id), and hand it to a worker once it is committed.

    One INSERT, committed by itself: accepted means stored. (When a burst of events for one
    course is coalesced is decided by the worker that claims them, not here, so the intake
    stays one statement.)
    """
    now = timezone.now()
    priority = priority_of(event.type, settings.EDUVAULT_EVENT_PRIORITIES)
    row = {
        "source": source,
        "event_id": event.id,
        "type": event.type,
        "priority": priority,
        "course_key": event.course_key,
        "payload": payload,
        "event_time": _time(event.time),
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
        existing = InboundEvent.objects.filter(source=source, event_id=event.id).first()
        if existing is None:  # pragma: no cover - an integrity error of another kind
            raise
        return existing, False
    log.info(
        "event.received",
        inbox_id=stored.pk,
        event_id=event.id,
        type=event.type,
        course=event.course_key,
        source=source.name,
        via=via,
        priority=priority,
    )
    return stored, True


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


# -- claiming and processing --------------------------------------------------------------


@dataclass
class Outcome:
    """What processing one course's events came to."""

    state: str  # done, retrying, failed, dead, busy, waiting, nothing
    events: int = 0
    run: SyncRun | None = None
    due_at: datetime | None = None


def course_events_claim(
    *, source_id: int, course_key: str, owner: str
) -> tuple[list[InboundEvent], Outcome | None]:
    """Claim, under one lease, every pending event of a course, if the course is due and no
    other worker holds a live lease on it. Returns (claimed, why not).

    A course is due when its events' retry time has come and, if they started arriving
    within ``EDUVAULT_COALESCE_SECONDS`` of its last sync (a burst), once no event has come
    for that long (or the oldest has waited ``EDUVAULT_COALESCE_MAX_SECONDS``): the first
    event of a burst syncs at once, the rest share one sync after it.
    """
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Claims for one course queue up here; SQLite's write lock does the same.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"inbox:{source_id}:{course_key}"]
                )
        events = InboundEvent.objects.filter(source_id=source_id, course_key=course_key)
        state = events.aggregate(
            busy=Count("id", filter=Q(status=Status.PROCESSING, lease_expires_at__gt=now)),
            waiting=Count("id", filter=Q(status=Status.PENDING)),
            retry_at=Max("next_attempt_at", filter=Q(status=Status.PENDING)),
            first=Min("received_at", filter=Q(status=Status.PENDING)),
            last=Max("received_at", filter=Q(status=Status.PENDING)),
            synced=Max("processed_at", filter=Q(status=Status.DONE)),
        )
        if state["busy"]:
            return [], Outcome("busy")
        if not state["waiting"]:
            return [], Outcome("nothing")
        due_at = state["retry_at"]
        window = timedelta(seconds=settings.EDUVAULT_COALESCE_SECONDS)
        if state["synced"] is not None and state["first"] - state["synced"] < window:
            # These events came during or just after the last sync: a burst. Wait for it
            # to settle (the course quiet for a window), but not forever.
            quiet = min(
                state["last"] + window,
                state["first"] + timedelta(seconds=settings.EDUVAULT_COALESCE_MAX_SECONDS),
            )
            due_at = max(due_at, quiet)
        if due_at > now:
            return [], Outcome("waiting", due_at=due_at)
        lease_until = now + timedelta(seconds=settings.EDUVAULT_LEASE_SECONDS)
        pending = list(events.filter(status=Status.PENDING).order_by("id"))
        ids = [e.pk for e in pending]
        holder = this_process()
        InboundEvent.objects.filter(pk__in=ids, status=Status.PENDING).update(
            status=Status.PROCESSING,
            lease_owner=owner,
            lease_expires_at=lease_until,
            lease_host=holder.host,
            lease_process=holder.process,
            attempts=F("attempts") + 1,
        )
    for e in pending:
        e.status, e.lease_owner, e.lease_expires_at, e.attempts = (
            Status.PROCESSING,
            owner,
            lease_until,
            e.attempts + 1,
        )
    return pending, None


def event_process(*, event_id: int, owner: str | None = None) -> Outcome:
    """Process the event's course: claim its pending events, sync once, settle them all."""
    event = InboundEvent.objects.select_related("source").filter(pk=event_id).first()
    if event is None:
        return Outcome("nothing")
    return course_process(source=event.source, course_key=event.course_key, owner=owner)


def course_process(*, source: Source, course_key: str, owner: str | None = None) -> Outcome:
    owner = owner or worker_name()
    claimed, why_not = course_events_claim(source_id=source.pk, course_key=course_key, owner=owner)
    if why_not is not None:
        return why_not
    ids = [e.pk for e in claimed]
    # Every line logged while this course is processed names the events and the requests
    # that delivered them (the sync's own lines add the run).
    with structlog.contextvars.bound_contextvars(
        inbox_ids=ids, request_ids=sorted({e.request_id for e in claimed if e.request_id})
    ):
        return _process_claimed(source, course_key, claimed, owner)


def _process_claimed(source: Source, course_key: str, claimed: list[InboundEvent], owner: str) -> Outcome:
    t0 = time.perf_counter()
    ids = [e.pk for e in claimed]
    try:
        run = course_sync(
            course_key=course_key,
            source=source,
            trigger=SyncRun.Trigger.WEBHOOK
            if claimed[-1].via == InboundEvent.Via.WEBHOOK
            else SyncRun.Trigger.BUS,
            actor=source.name,
            detail={"events": [e.event_id for e in claimed[-20:]], "count": len(claimed)},
        )
    except Exception as exc:
        return _settle_failure(claimed, exc, owner, t0)
    now = timezone.now()
    settled = InboundEvent.objects.filter(pk__in=ids, status=Status.PROCESSING, lease_owner=owner).update(
        status=Status.DONE,
        processed_at=now,
        run=run,
        lease_owner="",
        lease_expires_at=None,
        lease_host="",
        lease_process="",
        last_error="",
        last_error_code="",
    )
    log.info(
        "events.processed",
        course=course_key,
        source=source.name,
        events=len(claimed),
        settled=settled,
        run=run.pk,
        outcome=run.outcome,
        duration_ms=int((time.perf_counter() - t0) * 1000),
    )
    _follow_up(source, course_key)
    return Outcome("done", events=len(claimed), run=run)


def _follow_up(source: Source, course_key: str) -> None:
    """Events that arrived during the sync waited for it: queue their course for when it is due."""
    later = (
        InboundEvent.objects.filter(source=source, course_key=course_key, status=Status.PENDING)
        .order_by("-next_attempt_at")
        .first()
    )
    if later is not None:
        dispatch.course_dispatch(
            later, countdown=max(0.0, (later.next_attempt_at - timezone.now()).total_seconds())
        )


def _transient(exc: Exception) -> bool:
    if isinstance(exc, EduVaultError):
        return exc.transient
    return isinstance(exc, DatabaseError)  # a lost connection, a deadlock, a timeout


def retry_delay(attempts: int, *, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter: about base * 2**(attempts-1), capped, never below
    what a 429's Retry-After asked for."""
    ceiling = min(
        settings.EDUVAULT_RETRY_MAX_SECONDS, settings.EDUVAULT_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
    )
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return max(delay, retry_after or 0.0)


def _settle_failure(claimed: list[InboundEvent], exc: Exception, owner: str, t0: float) -> Outcome:
    now = timezone.now()
    detail = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
    attempts = max(e.attempts for e in claimed)
    ids = [e.pk for e in claimed]
    mine = InboundEvent.objects.filter(pk__in=ids, status=Status.PROCESSING, lease_owner=owner)
    common = {
        "lease_owner": "",
        "lease_expires_at": None,
        "lease_host": "",
        "lease_process": "",
        "last_error": detail[:2000],
        "last_error_code": type(exc).__name__,
    }
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
    course_key = claimed[0].course_key
    log.warning(
        "events.failed",
        course=course_key,
        events=len(claimed),
        attempts=attempts,
        outcome=state,
        error=detail,
        error_code=type(exc).__name__,
        duration_ms=int((time.perf_counter() - t0) * 1000),
    )
    outcome = Outcome(state, events=len(claimed))
    _follow_up(claimed[0].source, course_key)
    return outcome


# -- finding work, and the sweeper --------------------------------------------------------


@dataclass(frozen=True)
class DueCourse:
    source_id: int
    course_key: str
    priority: str
    first_event: int
    due_at: datetime


def due_courses(*, now: datetime | None = None, limit: int = 100) -> list[DueCourse]:
    """Courses with pending events whose retry time has come, and no live lease, most
    urgent first. (Whether a burst is still settling is decided when one is claimed.)"""
    now = now or timezone.now()
    live = InboundEvent.objects.filter(status=Status.PROCESSING, lease_expires_at__gt=now).values_list(
        "source_id", "course_key"
    )
    busy = set(live)
    groups = (
        InboundEvent.objects.filter(status=Status.PENDING)
        .values("source_id", "course_key")
        .annotate(due_at=Max("next_attempt_at"), first=Min("id"), top=Min("priority"))
        .filter(due_at__lte=now)
        .order_by("due_at")[: limit * 2]
    )
    order = {"critical": 0, "high": 1, "background": 2}
    out = []
    for g in groups:
        if (g["source_id"], g["course_key"]) in busy:
            continue
        priority = min(
            InboundEvent.objects.filter(
                source_id=g["source_id"], course_key=g["course_key"], status=Status.PENDING
            ).values_list("priority", flat=True),
            key=lambda p: order.get(p, 3),
        )
        out.append(DueCourse(g["source_id"], g["course_key"], priority, g["first"], g["due_at"]))
    out.sort(key=lambda d: (order.get(d.priority, 3), d.due_at))
    return out[:limit]


def inbox_sweep(*, redispatch_after: float | None = None, process_overdue: bool = False) -> dict[str, int]:
    """Release expired leases (their worker died) and hand again to the broker the due
    events it may have lost. With ``process_overdue`` (in workers), a course still waiting
    three hand-overs later is processed right here: a broker, or a consumer of it, that
    does not recover cannot hold events back. Idempotent; every worker may run it."""
    now = timezone.now()
    if redispatch_after is None:
        redispatch_after = settings.EDUVAULT_REDISPATCH_SECONDS
    orphaned = leases_reclaim()
    dead, released = _leases_lost(
        InboundEvent.objects.filter(status=Status.PROCESSING, lease_expires_at__lt=now),
        now=now,
        reason="the worker's lease expired before it finished (the worker died or stalled)",
        code="LeaseExpired",
    )
    redispatched = processed = 0
    stale = now - timedelta(seconds=redispatch_after)
    overdue = now - timedelta(seconds=3 * redispatch_after)
    for due in due_courses(now=now):
        if process_overdue and due.due_at < overdue:
            from eduvault.connectors.models import Source

            outcome = course_process(source=Source.objects.get(pk=due.source_id), course_key=due.course_key)
            processed += outcome.state not in ("busy", "waiting", "nothing")
            continue
        events = InboundEvent.objects.filter(
            source_id=due.source_id, course_key=due.course_key, status=Status.PENDING
        )
        if events.filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale)).exists():
            event = events.order_by("id").first()
            if event is not None and dispatch.course_dispatch(event):
                redispatched += 1
    counts = {
        "orphaned": orphaned,
        "released": released,
        "dead": dead,
        "redispatched": redispatched,
        "processed": processed,
    }
    if any(counts.values()):
        log.info("inbox.swept", **counts)
    return counts


def leases_reclaim() -> int:
    """Take back at once the leases that processes of this machine held when they died (a
    crash, a power cut): their events are due again now, rather than when the lease would
    have expired. Leases of live processes, and of other machines, are left alone.
    Returns how many events were put back."""
    me = this_process()
    holders = (
        InboundEvent.objects.filter(status=Status.PROCESSING, lease_host=me.host)
        .exclude(lease_process__in=("", me.process))
        .values_list("lease_process", flat=True)
        .distinct()
    )
    gone = [p for p in holders if process_gone(p)]
    if not gone:
        return 0
    orphaned = InboundEvent.objects.filter(
        status=Status.PROCESSING, lease_host=me.host, lease_process__in=gone
    )
    courses = list(orphaned.values_list("source_id", "course_key").distinct())
    dead, taken = _leases_lost(
        orphaned,
        now=timezone.now(),
        reason="the worker holding it on this machine died before it finished; taken back at once",
        code="LeaseOrphaned",
    )
    for source_id, course_key in courses:
        event = (
            InboundEvent.objects.filter(source_id=source_id, course_key=course_key, status=Status.PENDING)
            .order_by("id")
            .first()
        )
        if event is not None:
            dispatch.course_dispatch(event)
    log.warning("inbox.leases_reclaimed", events=taken, dead=dead, courses=len(courses), processes=gone)
    return taken + dead


def _leases_lost(events: Any, *, now: datetime, reason: str, code: str) -> tuple[int, int]:
    """Events whose worker is gone (``events``: PROCESSING ones): dead-lettered if that was
    their last attempt, else due again now. Returns (dead, released)."""
    common = {
        "lease_owner": "",
        "lease_expires_at": None,
        "lease_host": "",
        "lease_process": "",
        "last_error": reason,
        "last_error_code": code,
    }
    dead = events.filter(attempts__gte=settings.EDUVAULT_MAX_ATTEMPTS).update(
        status=Status.DEAD, processed_at=now, **common
    )
    released = events.update(status=Status.PENDING, next_attempt_at=now, dispatched_at=None, **common)
    return dead, released


# -- replay --------------------------------------------------------------------------------


def events_replay(
    *, ids: Iterable[int] | None = None, status: str | None = None, source: Source | None = None
) -> list[InboundEvent]:
    """Put events back in the queue, as new: by id, or all with a status (and source).

    Replaying an event whose change is already applied is a no-op: the sync it triggers
    finds the course unchanged.
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
        lease_owner="",
        lease_expires_at=None,
        lease_host="",
        lease_process="",
        processed_at=None,
        dispatched_at=None,
    )
    for event in replayed:
        event.refresh_from_db()
    seen = set()
    for event in replayed:
        key = (event.source_id, event.course_key)
        if key not in seen:
            seen.add(key)
            transaction.on_commit(lambda event=event: dispatch.course_dispatch(event))
    log.info("events.replayed", events=len(replayed), courses=len(seen))
    return replayed
