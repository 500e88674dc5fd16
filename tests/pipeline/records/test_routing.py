"""Routing learner-record deliveries: windows by priority class, and RabbitMQ's topic
exchange (``<priority>.<record type>.<platform>``) with a dead-letter exchange, against the real
broker; a worker of one class sends only that class's deliveries."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from kombu import Connection

from eduvault.identity.people import person_for_user
from eduvault.integrations.services import source_add
from eduvault.kernel.celery import queues, route
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.records.links import object_link_set
from eduvault.pipeline.records.routing import due_at
from eduvault.pipeline.records.services import record_local_change
from eduvault.pipeline.sync.services import course_sync
from tests.pipeline.records.conftest import SOURCE, TOKEN, build_school
from tests.services import RABBITMQ_URL, require
from tests.stack import Stack


def test_critical_goes_at_once_and_high_and_background_wait_for_their_window(settings):
    settings.EDUVAULT_HIGH_WINDOW_SECONDS = 300
    settings.EDUVAULT_BACKGROUND_WINDOW_SECONDS = 3600
    now = datetime(2026, 11, 30, 10, 2, 30, tzinfo=UTC)
    assert due_at("critical", now=now) == now
    assert due_at("high", now=now) == datetime(2026, 11, 30, 10, 5, tzinfo=UTC)  # the window's end
    assert due_at("background", now=now) == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    # Everything written within one window goes out together.
    assert due_at("high", now=now + timedelta(minutes=2)) == due_at("high", now=now)
    # An operator's own work is not held back.
    assert due_at("background", now=now, manual=True) == now


def test_the_high_window_is_never_over_fifteen_minutes(settings):
    settings.EDUVAULT_HIGH_WINDOW_SECONDS = 901
    with pytest.raises(ImproperlyConfigured, match="between 0 and 900"):
        due_at("high")


@pytest.mark.once
def test_rabbitmq_routes_by_priority_record_type_and_platform_and_dead_letters(settings):
    require(RABBITMQ_URL, "RabbitMQ")
    settings.EDUVAULT_BROKER_URL = RABBITMQ_URL
    settings.EDUVAULT_QUEUE_PREFIX = f"test-{uuid.uuid4().hex[:8]}"
    prefix = settings.EDUVAULT_QUEUE_PREFIX
    assert route("critical", "grade", "canvas") == {
        "exchange": f"{prefix}.work",
        "routing_key": "critical.grade.canvas",
    }
    declared = {q.name: q for q in queues()}
    assert set(declared) == {f"{prefix}.{c}" for c in ("critical", "high", "background", "dead")}
    with Connection(RABBITMQ_URL) as conn:
        channel = conn.channel()
        bound = [q(channel) for q in declared.values()]
        try:
            for q in bound:
                q.declare()
            producer = conn.Producer()
            for key in ("critical.grade.canvas", "high.badge.discourse", "background.forum_post.discourse"):
                producer.publish(
                    {"key": key}, exchange=f"{prefix}.work", routing_key=key, declare=[], retry=False
                )
            got = {}
            for name in ("critical", "high", "background"):
                queue = declared[f"{prefix}.{name}"](channel)
                message = poll(lambda queue=queue: queue.get(no_ack=False), 5, what=f"the {name} message")
                got[name] = message.payload["key"]
                if name == "critical":
                    message.reject(requeue=False)  # a worker refused it: to the dead letters
                else:
                    message.ack()
            assert got == {
                "critical": "critical.grade.canvas",
                "high": "high.badge.discourse",
                "background": "background.forum_post.discourse",
            }
            dead = poll(
                lambda: declared[f"{prefix}.dead"](channel).get(no_ack=True), 5, what="the dead letter"
            )
            assert dead.payload == {"key": "critical.grade.canvas"}
            assert dead.headers["x-death"][0]["queue"] == f"{prefix}.critical"
        finally:
            for q in bound:
                q.delete()


@pytest.mark.slow
@pytest.mark.once
@pytest.mark.django_db(transaction=True)
def test_a_worker_for_the_critical_class_sends_only_critical_deliveries(request, canvas):
    """With RabbitMQ, ``eduvault worker --queues critical`` sends a grade at once and leaves
    the high class's delivery to the workers of that class."""
    require(RABBITMQ_URL, "RabbitMQ")
    parts = build_school(canvas)
    source = source_add(platform="canvas", name=SOURCE, base_url=canvas.base_url, token=TOKEN)
    users = get_user_model()
    for login in ("amina", "chisomo"):
        users.objects.create_user(username=login, password="x-" * 8)
    course = course_sync(course_key=f"{SOURCE}:{parts['course'].id}", source=source, actor="test").course
    object_link_set(
        source=source,
        course_id=str(parts["course"].id),
        assignment_id=str(parts["quiz"].id),
        home_course=course,
        home_object="assessment:1",
        actor="test",
    )
    for login in ("amina", "chisomo"):
        record_local_change(
            kind="grade",
            course=course,
            object="assessment:1",
            person=person_for_user(user=users.objects.get(username=login)),
            fields={"score": 4, "max": 5},
        )
    first, second = Delivery.objects.order_by("id")
    assert first.route == "grade.canvas" and first.priority == "critical"
    Delivery.objects.filter(pk=second.pk).update(priority="high")  # as a completion would be

    stack = Stack(RABBITMQ_URL, EDUVAULT_DELIVER_SECONDS="0.2")
    request.addfinalizer(stack.stop)
    stack.worker("--queues", "critical")
    poll(lambda: Delivery.objects.get(pk=first.pk).status == "done", 30, stack, "the grade to be sent")
    time.sleep(1.0)
    assert Delivery.objects.get(pk=second.pk).status == "pending"  # nobody takes the high class
    stack.worker("--queues", "high")
    poll(lambda: Delivery.objects.get(pk=second.pk).status == "done", 30, stack, "the high class's worker")
    scores = {
        s.score
        for s in (
            canvas.submission(parts["course"].id, parts["quiz"].id, u.id) for u in parts["students"][:2]
        )
    }
    assert scores == {8}


def poll(condition, timeout: float, stack: Stack | None = None, what: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{stack.output() if stack else ''}")
        time.sleep(0.1)


@pytest.mark.django_db
def test_no_source_may_take_the_hubs_own_replica_name():
    # "eduvault" is the records hub itself: a source of that name would be mistaken for it
    # (and never be routed to), so it is refused.
    from eduvault.kernel.errors import InvalidInput

    with pytest.raises(InvalidInput, match="'eduvault' is Edu Vault's own"):
        source_add(platform="canvas", name="eduvault", base_url="http://canvas.test", token="t")
