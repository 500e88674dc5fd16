"""Outbound webhooks: signed, in order, retried until they arrive, disabled after a day of
failing, never sent to private addresses unless allowed, and never outside their scope."""

from __future__ import annotations

import json
import time

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from eduvault.identity.services import token_create
from eduvault.pipeline.feed.models import FeedEntry, Subscription
from eduvault.pipeline.feed.selectors import subscriptions_health
from eduvault.pipeline.feed.webhooks import (
    DestinationRefused,
    subscription_create,
    subscription_enable,
    subscriptions_pump,
)
from eduvault.pipeline.outbox.models import Delivery, DeliveryAttempt
from eduvault.pipeline.outbox.services import deliveries_run
from eduvault.pipeline.sync.services import course_sync_blocks
from tests.conftest import COURSE_KEY, run_cli, small_course
from tests.pipeline.feed.receiver import Receiver
from tests.stack import Stack

OTHER = "course-v1:MIE+OTHER+2026_T1"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def local_allowed(settings):
    settings.EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS = ["127.0.0.1"]
    settings.EDUVAULT_RETRY_BASE_SECONDS = 0.1


def subscribe(receiver, **kwargs):
    subscription, secret = subscription_create(name=kwargs.pop("name", "app"), url=receiver.url, **kwargs)
    receiver.secret = secret
    return subscription


def deliver_round():
    """What a worker's jobs do: the pump turns new entries into deliveries, the deliverer sends."""
    subscriptions_pump()
    return deliveries_run(owner="test")


def health():
    (only,) = subscriptions_health()
    return only


def deliver_all(timeout=20):
    deadline = time.monotonic() + timeout
    while (
        Subscription.objects.filter(enabled=True).exclude(cursor__gte=FeedEntry.objects.count()).exists()
        or Delivery.objects.filter(status__in=("pending", "sending")).exists()
    ):
        assert time.monotonic() < deadline, list(
            Delivery.objects.values("status", "attempts", "next_attempt_at")
        )
        deliver_round()
        time.sleep(0.02)


def edits(course, n):
    for i in range(n):
        course.rename(course.usage_key("chapter", "algebra"), f"Algebra {i}")
        course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())


@pytest.mark.django_db
def test_every_change_is_delivered_signed_in_order_once(receiver, local_allowed):
    course = small_course()
    subscription = subscribe(receiver, from_start=True)
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
    edits(course, 3)
    deliver_all()
    cursors = [d["data"]["cursor"] for d in receiver.received]
    assert cursors == list(range(1, FeedEntry.objects.count() + 1))
    assert receiver.bad_signatures == 0
    first = receiver.received[0]
    assert first["id"] == f"{subscription.pk}:1" and first["type"] == "org.eduvault.course.change.v1"
    assert set(first["data"]) >= {"cursor", "course", "op", "id", "kind", "before", "after"}
    assert DeliveryAttempt.objects.filter(ok=True).count() == len(cursors)


@pytest.mark.django_db
def test_a_receiver_down_for_a_while_gets_everything_in_order_once_each(receiver, local_allowed):
    course = small_course()
    subscribe(receiver)  # from now on
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
    receiver.status = 503
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        deliver_round()
        time.sleep(0.05)
    subscription = Subscription.objects.get()
    assert health()["attempts"] >= 3 and health()["failing_since"] is not None
    assert not Delivery.objects.filter(status="done").exists()
    failed = list(DeliveryAttempt.objects.filter(ok=False).order_by("id"))
    assert {a.delivery.idempotency_key for a in failed} == {
        f"{subscription.pk}:1"
    }  # the head of the line, retried
    assert all(a.status_code == 503 and a.error == "answered 503" for a in failed)
    edits(course, 2)  # more changes queue up behind
    # The receiver comes back, but slow at first: one delivery times out after it was
    # processed, so it arrives twice, with the same id.
    receiver.status, receiver.delay = 200, 0.5
    from django.conf import settings

    settings.EDUVAULT_WEBHOOK_TIMEOUT = 0.2
    subscriptions_pump()
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    assert deliveries_run(owner="test") == {"retrying": 1}
    time.sleep(0.6)  # the receiver finishes what it took too long to answer
    receiver.delay = 0
    settings.EDUVAULT_WEBHOOK_TIMEOUT = 10
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    deliver_all()
    assert len(receiver.received) > len(receiver.unique())  # a duplicate was delivered...
    cursors = [d["data"]["cursor"] for d in receiver.unique()]  # ...and is dropped by its id
    assert cursors == list(range(1, FeedEntry.objects.count() + 1))
    assert (health()["attempts"], health()["failing_since"], health()["waiting"]) == (0, None, 0)


@pytest.mark.django_db
def test_a_subscription_failing_for_a_day_is_disabled_and_can_be_enabled(receiver, local_allowed, settings):
    settings.EDUVAULT_WEBHOOK_DISABLE_AFTER_SECONDS = 0.5
    subscribe(receiver, from_start=True)
    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    receiver.status = 500
    deadline = time.monotonic() + 10
    while Subscription.objects.get().enabled:
        assert time.monotonic() < deadline
        deliver_round()
        time.sleep(0.05)
    subscription = Subscription.objects.get()
    assert "failing since" in subscription.disabled_reason and "answered 500" in subscription.disabled_reason
    assert subscription.disabled_at is not None
    receiver.status = 200
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    deliver_round()
    assert receiver.received == []  # disabled: nothing is sent
    subscription_enable(subscription=subscription)
    deliver_all()
    assert [d["data"]["cursor"] for d in receiver.received] == list(range(1, FeedEntry.objects.count() + 1))


@pytest.mark.django_db
def test_private_and_loopback_destinations_are_refused_unless_allowed(settings):
    settings.EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS = []
    for url in (
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "ftp://example.org/x",
        "http://user:pw@example.org/x",
    ):
        with pytest.raises(DestinationRefused):
            subscription_create(name=f"s{hash(url)}", url=url)
    settings.EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS = ["10.0.0.0/8", "localhost"]
    subscription_create(name="internal", url="http://10.1.2.3/x")
    subscription_create(name="local", url="http://localhost:9/x")


@pytest.mark.django_db
def test_a_subscription_never_leaves_its_tokens_scope(receiver, local_allowed):
    token, _ = token_create(name="student-app", courses=[COURSE_KEY])
    subscribe(
        receiver, token=token, from_start=True, courses=[COURSE_KEY, OTHER]
    )  # asks for more than allowed
    course_sync_blocks(course_key=OTHER, blocks=small_course(OTHER).blocks_response())
    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    deliver_all()
    assert receiver.received and {d["data"]["course"] for d in receiver.received} == {COURSE_KEY}


@pytest.mark.django_db
def test_subscriptions_api_is_for_admins(receiver, local_allowed, api):
    _, consumer = token_create(name="app")
    outsider = APIClient()
    outsider.credentials(HTTP_AUTHORIZATION=f"Bearer {consumer}")
    assert outsider.get("/api/v1/subscriptions/").status_code == 403
    assert (
        outsider.post("/api/v1/subscriptions/", {"name": "x", "url": receiver.url}, format="json").status_code
        == 403
    )
    created = api.post(
        "/api/v1/subscriptions/",
        {"name": "hooks", "url": receiver.url, "kinds": ["topic"], "ops": ["update"]},
        format="json",
    )
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    listed = api.get("/api/v1/subscriptions/").json()
    assert [(s["name"], s["enabled"], s["kinds"], s["ops"]) for s in listed] == [
        ("hooks", True, ["topic"], ["update"])
    ]
    assert "secret" not in listed[0]
    refused = api.post("/api/v1/subscriptions/", {"name": "x", "url": "http://10.0.0.1/x"}, format="json")
    assert refused.status_code == 422 and "private or local address" in refused.json()["detail"]
    bad_op = api.post(
        "/api/v1/subscriptions/", {"name": "y", "url": receiver.url, "ops": ["explode"]}, format="json"
    )
    assert bad_op.status_code == 400
    sid = created.json()["id"]
    assert api.get(f"/api/v1/subscriptions/{sid}/attempts/").json()["results"] == []
    assert api.post(f"/api/v1/subscriptions/{sid}/enable").status_code == 200
    assert api.delete(f"/api/v1/subscriptions/{sid}/").status_code == 204
    assert api.get(f"/api/v1/subscriptions/{sid}/").status_code == 404


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_server_delivers_changes_another_process_applied(receiver, tmp_path):
    stack = Stack("", EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS="127.0.0.1")
    try:
        stack.serve()
        added = run_cli(
            "subscription",
            "add",
            "app",
            "--url",
            receiver.url,
            "--kind",
            "topic",
            env={**stack.env},
            check=True,
        )
        receiver.secret = added.stdout.strip()
        path = tmp_path / "course.json"
        path.write_text(json.dumps(small_course().blocks_response()))
        run_cli("sync", "openedx", COURSE_KEY, "--blocks-file", str(path), check=True)
        deadline = time.monotonic() + 20
        while len(receiver.received) < 2:
            assert time.monotonic() < deadline, stack.output()
            time.sleep(0.1)
        assert [d["data"]["kind"] for d in receiver.received] == ["topic", "topic"]
        listed = run_cli("subscription", "list", env={**stack.env}, check=True).stdout
        assert "app" in listed and "enabled" in listed
        attempts = run_cli("subscription", "attempts", "app", env={**stack.env}, check=True).stdout
        assert "1:" in attempts or ":" in attempts
        assert timezone.now()
    finally:
        stack.stop()
