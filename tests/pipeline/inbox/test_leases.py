"""Leases of a process that died on this machine are taken back at once; others are not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from eduvault.integrations.services import source_add
from eduvault.kernel.processes import this_process
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.inbox.services import inbox_sweep, leases_reclaim
from tests.kernel.test_processes import finished_child

pytestmark = pytest.mark.django_db


def held(source, course_key: str, *, host: str, process: str, attempts: int = 1) -> InboundEvent:
    now = timezone.now()
    return InboundEvent.objects.create(
        source=source,
        event_id=f"{course_key}-{process}-{attempts}",
        type="org.openedx.content_authoring.course.published.v1",
        priority="background",
        subject="course",
        subject_key=course_key,
        payload={},
        received_at=now,
        next_attempt_at=now,
        status=InboundEvent.Status.PROCESSING,
        attempts=attempts,
        lease_owner="somewhere:1:1",
        lease_expires_at=now + timedelta(seconds=300),
        lease_host=host,
        lease_process=process,
    )


def test_only_the_leases_of_dead_processes_of_this_machine_are_taken_back(settings):
    settings.EDUVAULT_MAX_ATTEMPTS = 3
    source = source_add(
        platform="openedx", name="lms", base_url="http://lms.test", client_id="c", client_secret="s"
    )
    me = this_process()
    dead = finished_child()
    orphan = held(source, "course-a", host=me.host, process=dead)
    last_try = held(source, "course-b", host=me.host, process=dead, attempts=3)
    mine = held(source, "course-c", host=me.host, process=me.process)
    elsewhere = held(source, "course-d", host="another-machine/abc", process=dead)

    assert leases_reclaim() == 2
    orphan.refresh_from_db()
    assert (
        orphan.status == "pending"
        and orphan.lease_process == ""
        and orphan.last_error_code == "LeaseOrphaned"
    )
    assert orphan.next_attempt_at <= timezone.now() and orphan.attempts == 1
    last_try.refresh_from_db()
    assert last_try.status == "dead" and last_try.last_error_code == "LeaseOrphaned"
    for untouched in (mine, elsewhere):
        untouched.refresh_from_db()
        assert untouched.status == "processing" and untouched.lease_process

    # The sweep every worker runs does it too (and says so).
    held(source, "course-e", host=me.host, process=dead)
    assert inbox_sweep()["orphaned"] == 1


def test_deliveries_a_dead_process_was_sending_are_taken_back():
    from eduvault.pipeline.outbox.models import Delivery
    from eduvault.pipeline.outbox.services import deliveries_sweep

    me = this_process()
    now = timezone.now()

    def sending(key: str, process: str) -> Delivery:
        return Delivery.objects.create(
            target="subscription:1",
            channel="webhook",
            idempotency_key=key,
            payload={},
            status="sending",
            attempts=1,
            next_attempt_at=now,
            created_at=now,
            lease_owner="x:1:1",
            lease_expires_at=now + timedelta(seconds=600),
            lease_host=me.host,
            lease_process=process,
        )

    orphan, mine = sending("a", finished_child()), sending("b", me.process)
    assert deliveries_sweep() == {"orphaned": 1, "expired": 0}
    orphan.refresh_from_db()
    mine.refresh_from_db()
    assert (orphan.status, orphan.lease_process, orphan.attempts) == ("pending", "", 1)
    assert mine.status == "sending"
