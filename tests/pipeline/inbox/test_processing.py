"""Processing the inbox (no broker): coalescing, retries, dead letters, leases, replay."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from eduvault_openedx import sender

from eduvault.integrations.openedx.events import parse_cloud_event
from eduvault.integrations.openedx.normalize import normalize_blocks
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.content.selectors import course_tree_load
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.inbox.services import (
    arrival_store,
    event_process,
    events_replay,
    inbox_sweep,
    subject_claim,
)
from eduvault.pipeline.inbox.worker import InboxWorker
from eduvault.pipeline.sync.models import SyncRun
from tests.conftest import COURSE_KEY

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast(settings):
    settings.EDUVAULT_HTTP_ATTEMPTS = 1
    settings.EDUVAULT_RETRY_BASE_SECONDS = 0.2
    settings.EDUVAULT_COALESCE_SECONDS = 1.0
    settings.EDUVAULT_MAX_ATTEMPTS = 4


def deliver(source, *, course_key=COURSE_KEY, event_id=None, time_=None):
    body = sender.cloud_event(
        sender.COURSE_PUBLISHED, {"course_key": course_key}, source="studio", event_id=event_id, time_=time_
    )
    return arrival_store(source=source, arrival=parse_cloud_event(body), via="webhook")


def wait_due(event_id):
    due = InboundEvent.objects.get(pk=event_id).next_attempt_at
    time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 0.01)


def stored_tree():
    return course_tree_load(course=Course.objects.get(key=COURSE_KEY)).tree


def test_ten_deliveries_one_stored_one_sync(source, course):
    body = sender.cloud_event(sender.COURSE_PUBLISHED, {"course_key": COURSE_KEY}, source="studio")
    results = [
        arrival_store(source=source, arrival=parse_cloud_event(body), via="webhook") for _ in range(10)
    ]
    assert [created for _, created in results] == [True] + [False] * 9
    (event,) = InboundEvent.objects.all()
    for _ in range(10):
        event_process(event_id=event.pk)
    assert SyncRun.objects.count() == 1
    event.refresh_from_db()
    assert (event.status, event.attempts, event.result["outcome"]) == ("done", 1, "applied")


def test_a_burst_of_fifty_publishes_gives_at_most_two_syncs(source, course, simulator):
    worker = InboxWorker(threads=2, poll=0.05).start()
    try:
        for n in range(50):
            course.rename(course.usage_key("chapter", "algebra"), f"Algebra, draft {n + 1}")
            deliver(source)
            time.sleep(0.04)
        deadline = time.monotonic() + 15
        while InboundEvent.objects.exclude(status="done").exists():
            assert time.monotonic() < deadline, list(
                InboundEvent.objects.values_list("status", "next_attempt_at")
            )
            time.sleep(0.05)
    finally:
        worker.stop()
    syncs = list(SyncRun.objects.order_by("id"))
    assert 1 <= len(syncs) <= 2, [(r.outcome, r.trigger_detail) for r in syncs]
    assert sum(r.trigger_detail["count"] for r in syncs) == 50
    assert stored_tree() == normalize_blocks(course.blocks_response())
    assert stored_tree()[course.usage_key("chapter", "algebra")].title == "Algebra, draft 50"
    assert len(simulator.requests_to("/api/courses/v2/blocks/")) == len(syncs)


def test_events_processed_out_of_order_never_regress_the_course(source, course, settings):
    settings.EDUVAULT_COALESCE_SECONDS = 0  # each event syncs on its own here
    published = []
    for n in range(4):
        course.rename(course.usage_key("chapter", "geometry"), f"Geometry v{n}")
        published.append(
            sender.cloud_event(
                sender.COURSE_PUBLISHED,
                {"course_key": COURSE_KEY},
                source="studio",
                time_=timezone.now() + timedelta(seconds=n),
            )
        )
    for body in reversed(published):  # the newest arrives first, the oldest last
        stored, _ = arrival_store(source=source, arrival=parse_cloud_event(body), via="webhook")
        assert event_process(event_id=stored.pk).state == "done"
        assert stored_tree()[course.usage_key("chapter", "geometry")].title == "Geometry v3"
    assert (
        list(SyncRun.objects.values_list("outcome", flat=True).order_by("id"))
        == ["applied"] + ["unchanged"] * 3
    )


def test_a_source_that_stays_down_is_retried_with_growing_delays_then_dead_lettered(
    source, course, simulator, settings
):
    settings.EDUVAULT_RETRY_BASE_SECONDS = base = 0.4
    simulator.set_down(True)
    event, _ = deliver(source)
    delays = []
    for attempt in range(1, 5):
        wait_due(event.pk)
        before = timezone.now()
        outcome = event_process(event_id=event.pk)
        event.refresh_from_db()
        assert event.attempts == attempt
        if attempt < 4:
            assert (outcome.state, event.status) == ("retrying", "pending")
            delays.append((event.next_attempt_at - before).total_seconds())
        else:
            assert (outcome.state, event.status) == ("dead", "dead")
    # Exponential backoff with jitter: attempt n waits between half and all of base * 2**(n-1)
    # (measured from just before the attempt, which itself takes a moment).
    for n, delay in enumerate(delays, start=1):
        assert base * 2 ** (n - 1) / 2 <= delay <= base * 2 ** (n - 1) + 0.3, delays
    assert delays[2] > delays[0], delays
    assert event.last_error_code == "SourceUnavailable" and "503" in event.last_error
    assert not Course.objects.exists()

    simulator.set_down(False)
    (replayed,) = events_replay(status="dead")
    assert replayed.pk == event.pk
    event_process(event_id=event.pk)
    event.refresh_from_db()
    assert (event.status, event.result["outcome"]) == ("done", "applied")
    assert stored_tree() == normalize_blocks(course.blocks_response())


def test_a_permanent_failure_fails_at_once_with_the_reason(source, course, simulator):
    simulator.clients.clear()  # the platform no longer knows our OAuth client
    event, _ = deliver(source)
    assert event_process(event_id=event.pk).state == "failed"
    event.refresh_from_db()
    assert (event.status, event.attempts, event.last_error_code) == ("failed", 1, "SourceRejected")
    assert "client credentials" in event.last_error


def test_a_dead_workers_lease_expires_and_another_worker_finishes(source, course, settings):
    settings.EDUVAULT_LEASE_SECONDS = 0.5
    event, _ = deliver(source)
    claimed, _ = subject_claim(
        source_id=source.pk, subject="course", key=COURSE_KEY, owner="worker-that-dies"
    )
    assert [e.pk for e in claimed] == [event.pk]
    # While the lease lives, nobody else may take the course.
    assert event_process(event_id=event.pk, owner="other").state == "busy"
    time.sleep(0.6)
    assert inbox_sweep()["released"] == 1
    assert event_process(event_id=event.pk, owner="other").state == "done"
    event.refresh_from_db()
    assert (event.status, event.attempts, event.lease_owner) == ("done", 2, "")
    assert SyncRun.objects.filter(outcome="applied").count() == 1


def test_replaying_an_applied_event_is_a_no_op(source, course):
    event, _ = deliver(source)
    event_process(event_id=event.pk)
    before = list(Course.objects.values_list("version", "content_hash"))
    events_replay(ids=[event.pk])
    event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.status == "done" and event.result["outcome"] == "unchanged"
    assert list(Course.objects.values_list("version", "content_hash")) == before


def test_the_sweeper_processes_what_no_broker_picked_up(source, course, settings):
    settings.EDUVAULT_REDISPATCH_SECONDS = 0.1
    event, _ = deliver(source)
    assert inbox_sweep(process_overdue=True)["processed"] == 0  # just due: handed to the broker first
    time.sleep(0.35)  # three hand-overs later, still nobody took it
    assert inbox_sweep(process_overdue=True)["processed"] == 1
    event.refresh_from_db()
    assert event.status == "done" and event.result["outcome"] == "applied"
