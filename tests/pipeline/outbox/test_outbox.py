"""The outbox with a channel of the test's own: written in the cause's transaction, once per
key; in order per target where the channel needs it; retried with backoff; paced by a
target's Retry-After; dead-lettered; replayed; held while a target takes nothing."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from django.db import transaction
from django.utils import timezone

from eduvault.pipeline.outbox.channels import Channel, Held, Sent, channels, register
from eduvault.pipeline.outbox.models import Delivery, DeliveryAttempt
from eduvault.pipeline.outbox.services import (
    Outgoing,
    deliveries_enqueue,
    deliveries_replay,
    deliveries_run,
    target_resume,
)

pytestmark = pytest.mark.django_db


class Recorder(Channel):
    """Records what it is asked to send; answers with the next scripted results."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []
        self.script: list[Sent] = []
        self.held: str | None = None

    def hold(self, target: str) -> None:
        if self.held:
            raise Held(self.held, seconds=3600)

    def send(self, target: str, deliveries: Sequence[Delivery]) -> list[Sent]:
        self.sent.append([d.idempotency_key for d in deliveries])
        return [self.script.pop(0) if self.script else Sent(ok=True, status_code=200) for _ in deliveries]


@pytest.fixture
def ordered():
    @register("test.ordered")
    class Ordered(Recorder):
        ordered = True
        max_attempts = 3

    yield channels.get("test.ordered")
    channels.remove("test.ordered")


@pytest.fixture
def batched():
    @register("test.batched")
    class Batched(Recorder):
        batch_size = 10

    yield channels.get("test.batched")
    channels.remove("test.batched")


@pytest.fixture(autouse=True)
def fast(settings):
    settings.EDUVAULT_RETRY_BASE_SECONDS = 0.0


def write(channel: str, keys: list[str], target: str = "t1", priority: str = "background") -> None:
    with transaction.atomic():
        deliveries_enqueue(
            deliveries=[Outgoing(target, channel, key, {"n": key}, priority=priority) for key in keys]
        )


def due_now() -> None:
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())


def test_written_with_its_cause_and_once_per_key(ordered):
    write("test.ordered", ["a", "b"])
    write("test.ordered", ["b", "c"])  # the same cause again: nothing new for b
    assert list(Delivery.objects.order_by("id").values_list("idempotency_key", flat=True)) == ["a", "b", "c"]
    with pytest.raises(RuntimeError), transaction.atomic():
        deliveries_enqueue(deliveries=[Outgoing("t1", "test.ordered", "d", {})])
        raise RuntimeError("the cause rolls back")
    assert not Delivery.objects.filter(idempotency_key="d").exists()
    with pytest.raises(KeyError, match="no delivery channel 'nowhere'"):
        deliveries_enqueue(deliveries=[Outgoing("t1", "nowhere", "e", {})])


def test_an_ordered_target_is_served_one_at_a_time_and_a_failure_holds_the_line(ordered):
    write("test.ordered", ["a", "b", "c"])
    write("test.ordered", ["x"], target="t2")
    ordered.script = [Sent(ok=False, status_code=503, error="answered 503")]
    deliveries_run(owner="w")
    assert ordered.sent == [["a"], ["x"]]  # a failed: b and c wait behind it; t2 is not held up
    due_now()
    deliveries_run(owner="w")
    deliveries_run(owner="w")
    deliveries_run(owner="w")
    assert [k for batch in ordered.sent for k in batch] == ["a", "x", "a", "b", "c"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"done"}
    a = Delivery.objects.get(idempotency_key="a")
    assert (a.attempts, a.failing_since) == (2, None)
    assert list(a.attempt_log.order_by("id").values_list("ok", "status_code")) == [(False, 503), (True, 200)]


def test_out_of_attempts_is_a_dead_letter_and_a_replay_sends_it_again(ordered):
    write("test.ordered", ["a", "b"])
    ordered.script = [Sent(ok=False, error="down")] * 3
    for _ in range(3):
        deliveries_run(owner="w")
        due_now()
    a = Delivery.objects.get(idempotency_key="a")
    assert (a.status, a.attempts, a.last_error_code) == ("dead", 3, "OutOfAttempts")
    deliveries_run(owner="w")  # a dead letter leaves the line: b goes
    assert Delivery.objects.get(idempotency_key="b").status == "done"
    (replayed,) = deliveries_replay(status="dead")
    assert (replayed.status, replayed.attempts) == ("pending", 0)
    deliveries_run(owner="w")
    assert Delivery.objects.get(idempotency_key="a").status == "done"


def test_a_permanent_refusal_is_not_retried(batched):
    write("test.batched", ["a", "b"])
    batched.script = [Sent(ok=False, status_code=422, error="refused", permanent=True), Sent(ok=True)]
    deliveries_run(owner="w")
    assert dict(Delivery.objects.values_list("idempotency_key", "status")) == {"a": "failed", "b": "done"}


def test_batches_take_the_most_urgent_first_and_retry_after_quiets_the_target(batched):
    write("test.batched", [f"bg{i}" for i in range(3)])
    write("test.batched", ["grade"], priority="critical")
    batched.script = [Sent(ok=False, status_code=429, retry_after=60, error="slow down")]
    deliveries_run(owner="w")
    assert batched.sent == [["grade", "bg0", "bg1", "bg2"]]
    waiting = Delivery.objects.exclude(status="done")
    assert list(waiting.values_list("idempotency_key", flat=True)) == ["grade"]
    assert (waiting.get().next_attempt_at - timezone.now()).total_seconds() > 55
    deliveries_run(owner="w")
    assert len(batched.sent) == 1  # nothing goes before the target said


def test_a_held_target_gets_nothing_and_no_attempt_counts(ordered):
    write("test.ordered", ["a"])
    ordered.held = "the subscription is disabled"
    assert deliveries_run(owner="w") == {"held": 1}
    a = Delivery.objects.get()
    assert (a.status, a.attempts, a.last_error) == ("pending", 0, "held: the subscription is disabled")
    assert ordered.sent == [] and not DeliveryAttempt.objects.exists()
    ordered.held = None
    target_resume(target="t1")
    deliveries_run(owner="w")
    assert Delivery.objects.get().status == "done"
