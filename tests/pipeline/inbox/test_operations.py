"""Operating the inbox: the events CLI and the admin API (list, show, replay), and the
reconcile that catches whatever events were lost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from eduvault_openedx import sender
from rest_framework.test import APIClient

from eduvault.identity.services import token_create
from eduvault.integrations.openedx.events import parse_cloud_event
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.inbox.services import arrival_store, event_process
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.services import sources_reconcile
from tests.conftest import COURSE_KEY, run_cli, small_course


def deliver(source, course_key=COURSE_KEY):
    body = sender.cloud_event(sender.COURSE_PUBLISHED, {"course_key": course_key}, source="studio")
    return arrival_store(source=source, arrival=parse_cloud_event(body), via="webhook")[0]


@pytest.fixture
def dead_event(source, course, simulator, settings):
    settings.EDUVAULT_MAX_ATTEMPTS = 1
    settings.EDUVAULT_HTTP_ATTEMPTS = 1
    simulator.set_down(True)
    event = deliver(source)
    assert event_process(event_id=event.pk).state == "dead"
    simulator.set_down(False)
    return event


@pytest.mark.django_db(transaction=True)
def test_events_cli_lists_shows_and_replays_dead_letters(dead_event):
    listed = run_cli("events", "list", "--status", "dead", check=True).stdout
    assert str(dead_event.pk) in listed and "SourceUnavailable" not in listed and "503" in listed
    shown = run_cli("events", "show", str(dead_event.pk), check=True).stdout
    assert "dead" in shown and COURSE_KEY in shown and '"specversion": "1.0"' in shown
    replayed = run_cli("events", "replay", "--dead", "--source", "lms", check=True).stdout
    assert f"replayed 1 event(s): {dead_event.pk}" in replayed
    dead_event.refresh_from_db()
    assert (dead_event.status, dead_event.attempts) == ("pending", 0)
    event_process(event_id=dead_event.pk)
    dead_event.refresh_from_db()
    assert dead_event.status == "done" and dead_event.result["outcome"] == "applied"
    assert run_cli("events", "show", "999999").returncode != 0
    assert run_cli("events", "replay").returncode == 2


@pytest.mark.django_db
def test_the_events_api_is_for_admins(dead_event):
    _, admin = token_create(name="ops", role="admin")
    _, consumer = token_create(name="app", role="consumer")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {consumer}")
    for method, path in [
        ("get", "/api/v1/events/"),
        ("get", f"/api/v1/events/{dead_event.pk}/"),
        ("post", "/api/v1/events/replay"),
        ("post", f"/api/v1/events/{dead_event.pk}/replay"),
    ]:
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 403, path
        assert response["Content-Type"] == "application/problem+json"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin}")
    listed = client.get("/api/v1/events/?status=dead").json()
    assert [e["id"] for e in listed["results"]] == [dead_event.pk]
    assert listed["results"][0]["last_error_code"] == "SourceUnavailable"
    assert client.get("/api/v1/events/?status=nonsense").status_code == 400
    assert client.get(f"/api/v1/events/{dead_event.pk}/").json()["payload"]["type"] == sender.COURSE_PUBLISHED
    assert client.post("/api/v1/events/replay", {}, format="json").status_code == 400
    response = client.post("/api/v1/events/replay", {"status": "dead", "source": "lms"}, format="json")
    assert response.status_code == 202 and response.json() == {"replayed": [dead_event.pk]}
    assert InboundEvent.objects.get().status == "pending"
    assert client.post("/api/v1/events/424242/replay").status_code == 404


@pytest.mark.django_db
def test_reconcile_syncs_every_course_and_unchanged_ones_write_nothing(source, simulator):
    keys = ["course-v1:MIE+MATH-A+2026_T1", "course-v1:MIE+MATH-B+2026_T1"]
    for key in keys:
        simulator.add_course(small_course(key))
    assert sources_reconcile() == {"courses": 2, "applied": 2, "unchanged": 0, "failed": 0}
    runs = SyncRun.objects.count()
    with CaptureQueriesContext(connection) as queries:
        assert sources_reconcile() == {"courses": 2, "applied": 0, "unchanged": 2, "failed": 0}
    writes = [
        q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")
    ]
    assert writes == [], writes
    assert SyncRun.objects.count() == runs
    # A changed course is applied; a vanished one fails and the others go on.
    simulator.courses[keys[0]].rename(simulator.courses[keys[0]].root, "Renamed")
    del simulator.courses[keys[1]]
    simulator.add_course(small_course(keys[1].replace("MATH-B", "MATH-C")))
    assert sources_reconcile() == {"courses": 2, "applied": 2, "unchanged": 0, "failed": 0}


@pytest.mark.django_db(transaction=True)
def test_reconcile_cli(source, simulator):
    simulator.add_course(small_course("course-v1:MIE+MATH-A+2026_T1"))
    result = run_cli("reconcile", "--source", "lms", check=True)
    assert "reconciled 1 course(s) from 1 source(s): 1 applied, 0 unchanged, 0 failed" in result.stdout
    simulator.set_down(True)
    failing = run_cli("reconcile")
    assert failing.returncode == 1 and "could not be reconciled" in failing.stderr


def test_a_celery_worker_that_dies_is_started_again_until_asked_to_stop(monkeypatch):
    """Celery can die of an "unrecoverable" error when the broker vanishes at the wrong
    moment; `eduvault worker` starts it again, and stops only when asked (SIGTERM's warm
    shutdown records exit code 0, which still means "stop")."""
    from celery.worker import state

    from eduvault.cli import runtime

    naps = []
    monkeypatch.setattr(state, "should_stop", None)
    monkeypatch.setattr(state, "should_terminate", None)
    runs = []

    class App:
        def worker_main(self, argv):
            runs.append(argv)
            if len(runs) == 3:
                state.should_stop = 0  # what Celery's SIGTERM handler sets

    runtime.run_celery_until_stopped(App(), ["worker"], sleep=naps.append)
    assert len(runs) == 3 and naps == [2.0, 4.0]
