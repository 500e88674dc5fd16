"""One event followed through the JSON logs of a real `eduvault serve`: the webhook's request
id is on the line that stored it, and on the lines of the worker that synced its course,
next to the inbox id and the run."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from eduvault_openedx import sender

from eduvault.kernel import signing as signatures
from eduvault.pipeline.inbox.models import InboundEvent
from tests.conftest import CLIENT_ID, CLIENT_SECRET
from tests.stack import Stack

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_a_webhook_can_be_followed_to_its_applied_change(simulator, course):
    from eduvault.integrations.services import source_add

    source_add(
        platform="openedx",
        name="lms",
        base_url=simulator.base_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        webhook_secret=SECRET,
    )
    stack = Stack("", EDUVAULT_COALESCE_SECONDS="0.1", EDUVAULT_SWEEP_SECONDS="0.3")
    try:
        url = stack.serve()
        body = sender.cloud_event(
            sender.COURSE_PUBLISHED, {"course_key": course.course_key}, source="http://studio.test"
        )
        data = json.dumps(body).encode()
        headers = signatures.headers_for(SECRET, body["id"], data)
        headers.update({"Content-Type": "application/cloudevents+json", "X-Request-ID": "trace-4711"})
        response = httpx.post(f"{url}/api/v1/webhooks/lms", content=data, headers=headers)
        assert response.status_code == 202 and response.headers["X-Request-ID"] == "trace-4711"
        deadline = time.monotonic() + 30
        while InboundEvent.objects.get(event_id=body["id"]).status != "done":
            assert time.monotonic() < deadline, stack.output()
            time.sleep(0.2)
        stored = InboundEvent.objects.get(event_id=body["id"])
        assert stored.request_id == "trace-4711"
        time.sleep(0.5)  # the log lines are written as the work finishes
        text = "\n".join(p.read_text() for p in stack.logs.iterdir())
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    finally:
        stack.stop()
    received = [line for line in lines if line.get("event") == "event.received"]
    assert received and received[0]["request_id"] == "trace-4711" and received[0]["inbox_id"] == stored.pk
    processed = [line for line in lines if line.get("event") == "events.processed"]
    assert processed, lines
    assert processed[0]["request_ids"] == ["trace-4711"] and processed[0]["inbox_ids"] == [stored.pk]
    assert processed[0]["run"] == stored.result["run"]
    applied = [line for line in lines if line.get("event", "").startswith("sync.") and "request_ids" in line]
    assert applied and applied[0]["request_ids"] == ["trace-4711"], [line.get("event") for line in lines]
