"""End to end on real processes and real brokers: Studio publishes (the simulator, with the
plugin's sender), `eduvault serve` stores the webhook, a Celery worker over Redis or
RabbitMQ syncs the course. And the failures: broker down, worker killed mid-sync."""

from __future__ import annotations

import time

import pytest

from eduvault.integrations.openedx.normalize import normalize_blocks
from eduvault.integrations.openedx.simulator import OpenEdxSimulator
from eduvault.integrations.services import source_add
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.content.selectors import course_tree_load
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.sync.models import SyncRun
from tests.conftest import CLIENT_ID, CLIENT_SECRET, COURSE_KEY, small_course
from tests.services import RABBITMQ_URL, REDIS_URL, require
from tests.stack import PrivateRedis, Stack

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.once]

WEBHOOK_SECRET = "whsec_dGVzdC1zZWNyZXQtZm9yLXN0dWRpbw=="


@pytest.fixture
def lms():
    with OpenEdxSimulator(webhook_secret=WEBHOOK_SECRET) as sim:
        sim.add_client(CLIENT_ID, CLIENT_SECRET)
        sim.add_course(small_course())
        source_add(
            platform="openedx",
            name="lms",
            base_url=sim.base_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            webhook_secret=WEBHOOK_SECRET,
        )
        yield sim


def wait_for(condition, timeout: float, stack: Stack | None = None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{stack.output() if stack else ''}")
        time.sleep(0.1)


def synced_to(sim: OpenEdxSimulator):
    expected = normalize_blocks(sim.courses[COURSE_KEY].blocks_response())

    def check() -> bool:
        course = Course.objects.filter(key=COURSE_KEY).first()
        return course is not None and course_tree_load(course=course).tree == expected

    return check


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_a_publish_syncs_through_a_celery_worker(lms, broker):
    url = {"redis": REDIS_URL, "rabbitmq": RABBITMQ_URL}[broker]
    require(url, broker)
    stack = Stack(url)
    try:
        lms.webhook_url = f"{stack.serve()}/api/v1/webhooks/lms"
        stack.worker()
        course = lms.courses[COURSE_KEY]
        lms.publish(COURSE_KEY)
        wait_for(synced_to(lms), 30, stack, "the first publish to be synced")
        course.rename(course.usage_key("chapter", "geometry"), "Geometry and measures")
        lms.publish(COURSE_KEY)
        wait_for(synced_to(lms), 30, stack, "the rename to be synced")
        assert [status for _, status in lms.deliveries] == [202, 202]
        # The event is settled just after the sync it caused commits.
        wait_for(
            lambda: not InboundEvent.objects.exclude(status="done").exists(),
            10,
            stack,
            "the events to settle",
        )
        assert set(InboundEvent.objects.values_list("status", flat=True)) == {"done"}
        runs = list(SyncRun.objects.order_by("id").values_list("trigger", "outcome", "version_after"))
        assert runs == [("webhook", "applied", 1), ("webhook", "applied", 2)]
    finally:
        stack.stop()


def test_events_arriving_while_the_broker_is_down_are_all_processed_once_it_is_back(lms):
    require(REDIS_URL, "redis")  # the private broker needs redis-server installed, as CI's Redis does
    broker = PrivateRedis()
    stack = Stack(broker.url, EDUVAULT_REDISPATCH_SECONDS="1")
    try:
        lms.webhook_url = f"{stack.serve()}/api/v1/webhooks/lms"
        course = lms.courses[COURSE_KEY]
        for n in range(3):  # the broker is not running yet
            course.rename(course.usage_key("chapter", "algebra"), f"Algebra {n}")
            lms.publish(COURSE_KEY)
        assert [status for _, status in lms.deliveries] == [202, 202, 202]
        assert InboundEvent.objects.filter(status="pending").count() == 3

        broker.start()
        stack.worker()
        wait_for(synced_to(lms), 40, stack, "the events accepted while the broker was down")
        wait_for(
            lambda: not InboundEvent.objects.exclude(status="done").exists(), 20, stack, "every event done"
        )

        # And once more with the broker stopped under a running stack.
        broker.stop()
        course.rename(course.usage_key("chapter", "algebra"), "Algebra, final")
        lms.publish(COURSE_KEY)
        assert lms.deliveries[-1][1] == 202
        broker.start()
        wait_for(synced_to(lms), 40, stack, "the event accepted while the broker was stopped")
        applied = SyncRun.objects.filter(outcome="applied").count()
        assert 2 <= applied <= 4
    finally:
        stack.stop()
        broker.stop()


def test_a_worker_killed_mid_sync_is_replaced_and_the_course_is_applied_once(lms):
    require(REDIS_URL, "redis")
    stack = Stack(REDIS_URL, EDUVAULT_LEASE_SECONDS="3", EDUVAULT_REDISPATCH_SECONDS="1")
    try:
        lms.webhook_url = f"{stack.serve()}/api/v1/webhooks/lms"
        doomed = stack.worker()
        lms.slow_next(1, seconds=60, path_prefix="/api/courses/v2/blocks/")  # the sync hangs mid-fetch
        lms.publish(COURSE_KEY)
        wait_for(
            lambda: InboundEvent.objects.filter(status="processing").exists(),
            30,
            stack,
            "the worker to claim",
        )
        time.sleep(0.5)
        stack.kill(doomed)
        assert not Course.objects.exists()

        stack.worker()
        wait_for(synced_to(lms), 40, stack, "another worker to take over once the lease expired")
        event = InboundEvent.objects.get()
        assert (event.status, event.attempts) == ("done", 2)
        assert list(SyncRun.objects.values_list("outcome", "version_after")) == [("applied", 1)]
    finally:
        stack.stop()
