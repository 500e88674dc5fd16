"""/metrics, /healthz and /readyz."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from eduvault.identity.services import token_create
from eduvault.kernel.errors import SourceUnavailable
from eduvault.pipeline.sync.services import course_sync

pytestmark = pytest.mark.django_db


def scrape(client: Client, token: str) -> dict:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def samples(families: dict, name: str) -> dict[tuple, float]:
    return {tuple(sorted(s.labels.items())): s.value for s in families[name].samples if s.name == name}


def test_metrics_count_what_happened(client, source, simulator, course):
    admin = token_create(name="prometheus", role="admin")[1]
    course_sync(course_key=course.course_key, source=source)
    simulator.set_down(True)
    with pytest.raises(SourceUnavailable):
        course_sync(course_key=course.course_key, source=source)
    simulator.set_down(False)
    families = scrape(client, admin)
    assert all(name.startswith("eduvault_") for name in families), sorted(families)
    assert samples(families, "eduvault_database_up")[()] == 1
    durations = families["eduvault_sync_duration_seconds"]
    counts = {s.labels["outcome"]: s.value for s in durations.samples if s.name.endswith("_count")}
    assert counts == {"applied": 1, "failed": 1}
    states = samples(families, "eduvault_source_state")
    assert states[(("source", "lms"), ("state", "failing"))] == 1
    assert states[(("source", "lms"), ("state", "healthy"))] == 0
    depth = samples(families, "eduvault_queue_depth")
    assert {labels for labels in depth} >= {(("priority", "critical"), ("state", "pending"))}
    for name in (
        "eduvault_events_received",
        "eduvault_events_processed",
        "eduvault_events_failed",
        "eduvault_dead_letters",
        "eduvault_source_lag_seconds",
        "eduvault_stream_clients",
        "eduvault_webhook_deliveries",
    ):
        assert name in families, name


def test_events_by_source_type_and_priority(client, source, simulator, course):
    from django.utils import timezone

    from eduvault.pipeline.inbox.models import InboundEvent

    now = timezone.now()
    for i, status in enumerate(["done", "done", "dead", "pending"]):
        InboundEvent.objects.create(
            source=source,
            event_id=f"e{i}",
            type="org.openedx.content_authoring.course.published.v1",
            priority="high",
            subject="course",
            subject_key=course.course_key,
            payload={},
            received_at=now,
            next_attempt_at=now,
            status=status,
        )
    families = scrape(client, token_create(name="prometheus", role="admin")[1])
    labels = (
        ("priority", "high"),
        ("source", "lms"),
        ("type", "org.openedx.content_authoring.course.published.v1"),
    )
    received = {
        tuple(sorted(s.labels.items())): s.value for s in families["eduvault_events_received"].samples
    }
    assert received[labels] == 4
    processed = {
        tuple(sorted(s.labels.items())): s.value for s in families["eduvault_events_processed"].samples
    }
    assert processed[labels] == 2
    failed = {tuple(sorted(s.labels.items())): s.value for s in families["eduvault_events_failed"].samples}
    assert failed[labels] == 1
    assert samples(families, "eduvault_dead_letters")[(("priority", "high"),)] == 1


def test_metrics_need_an_admin(client):
    consumer = token_create(name="consumer", role="consumer")[1]
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": f"Bearer {consumer}"},
        {"HTTP_AUTHORIZATION": "Bearer ev_x_y"},
    ):
        response = client.get("/metrics", **headers)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert "admin API token" in response.json()["detail"]


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}


@override_settings(EDUVAULT_BROKER_URL="redis://127.0.0.1:1/0")
def test_not_ready_names_what_is_down(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["detail"] == "cannot reach: broker"
    assert body["checks"]["database"] == "ok" and body["checks"]["broker"] != "ok"


def test_a_scrape_still_answers_when_the_database_does_not(client, monkeypatch):
    from django.db import OperationalError

    from eduvault.operations.monitoring import selectors

    token = token_create(name="prometheus", role="admin")[1]

    def down():
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "event_counts", down)
    families = scrape(client, token)
    assert samples(families, "eduvault_database_up")[()] == 0
    assert "eduvault_events_received" not in families and "eduvault_stream_clients" in families


def test_records_conflicts_and_held_identities_are_counted(client):
    from eduvault.identity.models import Identity, Person
    from eduvault.pipeline.records.models import Record

    person = Person.objects.create(name="Amina")
    Record.objects.create(
        kind="grade",
        key="c/a:1",
        holder=f"p{person.pk}",
        person=person,
        object="a:1",
        home="x",
        home_platform="canvas",
        conflicts=1,
    )
    Record.objects.create(
        kind="grade",
        key="c/a:2",
        holder=f"p{person.pk}",
        person=person,
        object="a:2",
        home="x",
        home_platform="canvas",
    )
    Record.objects.create(
        kind="enrollment",
        key="c/role:learner",
        holder=f"p{person.pk}",
        person=person,
        object="role:learner",
        home="x",
        home_platform="canvas",
    )
    Identity.objects.create(
        platform="canvas", realm="school", external_id="9", state="held", held_reason="matches nobody"
    )
    families = scrape(client, token_create(name="prometheus", role="admin")[1])
    assert samples(families, "eduvault_records") == {(("kind", "enrollment"),): 1, (("kind", "grade"),): 2}
    assert samples(families, "eduvault_record_conflicts")[()] == 1
    assert samples(families, "eduvault_identities_held")[()] == 1
