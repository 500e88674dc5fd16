"""Work by subject: the inbox hands each kind of subject to the handler registered for it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from eduvault.integrations.base import Arrival
from eduvault.integrations.services import source_add
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.inbox.services import arrival_store, subject_process
from eduvault.pipeline.inbox.work import handlers, work_handler

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrollments():
    calls: list[tuple[str, list[str]]] = []

    @work_handler("test.enrollment")
    def handle(*, source, key, events):
        calls.append((key, [e.event_id for e in events]))
        return {"enrolled": len(events)}

    yield calls
    handlers.remove("test.enrollment")


def arrival(event_id: str, key: str) -> Arrival:
    return Arrival(
        event_id=event_id,
        type="test.enrollment.created",
        subject="test.enrollment",
        subject_key=key,
        payload={"id": event_id},
        priority="high",
        time=timezone.now(),
    )


def test_events_of_one_subject_are_handled_together_by_its_handler(enrollments, settings):
    settings.EDUVAULT_COALESCE_SECONDS = 0
    source = source_add(
        platform="openedx", name="lms", base_url="http://lms.test", client_id="c", client_secret="s"
    )
    for n in range(3):
        arrival_store(source=source, arrival=arrival(f"e{n}", "amina@maths"), via="webhook")
    arrival_store(source=source, arrival=arrival("other", "chikondi@maths"), via="webhook")
    outcome = subject_process(source=source, subject="test.enrollment", key="amina@maths")
    assert (outcome.state, outcome.result) == ("done", {"enrolled": 3})
    assert enrollments == [("amina@maths", ["e0", "e1", "e2"])]
    done = InboundEvent.objects.filter(subject_key="amina@maths")
    assert set(done.values_list("status", flat=True)) == {"done"}
    assert done.first().result == {"enrolled": 3} and done.first().priority == "high"
    assert InboundEvent.objects.get(event_id="other").status == "pending"


def test_a_subject_nobody_handles_fails_with_the_reason(settings):
    source = source_add(
        platform="openedx", name="lms", base_url="http://lms.test", client_id="c", client_secret="s"
    )
    arrival_store(source=source, arrival=arrival("e1", "k"), via="webhook")
    outcome = subject_process(source=source, subject="test.enrollment", key="k")
    event = InboundEvent.objects.get()
    assert outcome.state == "failed" and event.status == "failed"
    assert "no kind of work 'test.enrollment'" in event.last_error
