"""The live stream on a real server, with the changes applied by other processes."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from eduvault.identity.services import token_create
from eduvault.integrations.openedx.simulator.synthetic import synthetic_course
from eduvault.pipeline.feed.models import FeedEntry
from tests.conftest import COURSE_KEY, run_cli, small_course
from tests.pipeline.feed.sse import SSEReader
from tests.stack import Stack

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def server():
    stack = Stack("", EDUVAULT_STREAM_HEARTBEAT_SECONDS="0.5")
    try:
        yield stack.serve()
    finally:
        stack.stop()


NOTIFY = {"env": {}}


def write_blocks(tmp_path, name, course):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(course.blocks_response()))
    return str(path)


def sync(key, path):
    from tests.conftest import database_env

    run_cli(
        "sync", "openedx", key, "--blocks-file", path, check=True, env={**database_env(), **NOTIFY["env"]}
    )


def test_changes_applied_elsewhere_arrive_as_events(server, tmp_path):
    check_changes_arrive(server, tmp_path)


@pytest.mark.once
def test_fan_out_over_redis_pub_sub(tmp_path):
    from tests.services import REDIS_URL, require

    require(REDIS_URL, "redis")
    NOTIFY["env"] = {"EDUVAULT_NOTIFY_URL": REDIS_URL}
    stack = Stack("", EDUVAULT_STREAM_HEARTBEAT_SECONDS="0.5", EDUVAULT_NOTIFY_URL=REDIS_URL)
    try:
        check_changes_arrive(stack.serve(), tmp_path)
    finally:
        NOTIFY["env"] = {}
        stack.stop()


def check_changes_arrive(server, tmp_path):
    _, token = token_create(name="ops", role="admin")
    course = small_course()
    sync(COURSE_KEY, write_blocks(tmp_path, "v1", course))
    reader = SSEReader(f"{server}/api/v1/stream", token)
    reader.start()
    assert reader.connected.wait(10) and reader.status == 200
    time.sleep(0.3)
    course.rename(course.usage_key("chapter", "algebra"), "Algebra & functions")
    course.delete(course.usage_key("vertical", "quad-u2"))
    sync(COURSE_KEY, write_blocks(tmp_path, "v2", course))
    events = reader.wait_for(2)
    reader.stop()
    feed = httpx.get(
        f"{server}/api/v1/changes",
        params={"after": events[0]["cursor"] - 1},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["results"]
    assert events == feed  # the same JSON as the feed, in the same order
    assert [e["op"] for e in events] == ["update", "delete"] and all(e["version"] == 2 for e in events)
    ids = [event_id for event_id, kind, _ in reader.events if kind == "change"]
    assert ids == [str(e["cursor"]) for e in events]
    assert reader.comments >= 1  # a heartbeat while waiting


def test_a_client_that_drops_mid_burst_resumes_exactly_where_it_left(server, tmp_path):
    _, token = token_create(name="ops", role="admin")
    big = synthetic_course(1500, run="BURST")
    first = SSEReader(f"{server}/api/v1/stream", token, stop_after=40)
    first.start()
    assert first.connected.wait(10)
    time.sleep(0.3)
    sync(big.course_key, write_blocks(tmp_path, "big", big))
    first.join(30)
    received = first.wait_for(40)[:40]
    last_id = str(received[-1]["cursor"])

    again = SSEReader(f"{server}/api/v1/stream", token, last_event_id=last_id)
    again.start()
    total = FeedEntry.objects.count()
    rest = again.wait_for(total - 40)
    again.stop()
    cursors = [e["cursor"] for e in received] + [e["cursor"] for e in rest]
    assert cursors == list(range(1, total + 1)), "exactly the missed events, once each, in order"


def test_a_consumer_streams_only_its_scope(server, tmp_path):
    _, token = token_create(name="student-app", courses=[COURSE_KEY], kinds=["subtopic"])
    reader = SSEReader(f"{server}/api/v1/stream", token, last_event_id="0")
    reader.start()
    sync(
        "course-v1:MIE+OTHER+2026_T1",
        write_blocks(tmp_path, "other", small_course("course-v1:MIE+OTHER+2026_T1")),
    )
    sync(COURSE_KEY, write_blocks(tmp_path, "mine", small_course()))
    reader.wait_for(3)
    time.sleep(1)
    reader.stop()
    assert {(e["course"], e["kind"]) for e in reader.changes()} == {(COURSE_KEY, "subtopic")}
    assert len(reader.changes()) == 3


def test_a_client_too_far_behind_is_told_to_resume_from_the_feed(tmp_path):
    stack = Stack("", EDUVAULT_STREAM_QUEUE="5")
    try:
        server = stack.serve()
        _, token = token_create(name="ops", role="admin")
        reader = SSEReader(f"{server}/api/v1/stream", token)
        reader.start()
        assert reader.connected.wait(10)
        time.sleep(0.3)
        sync(COURSE_KEY, write_blocks(tmp_path, "v1", small_course()))
        deadline = time.monotonic() + 20
        while not any(kind == "resync" for _, kind, _ in reader.events):
            assert time.monotonic() < deadline, reader.events[-3:]
            time.sleep(0.05)
        reader.join(10)
        assert not reader.is_alive(), "the server ends the stream after a resync"
        (resync,) = [json.loads(data) for _, kind, data in reader.events if kind == "resync"]
        got = [e["cursor"] for e in reader.changes()]
        assert resync["next_cursor"] == (got[-1] if got else 0)
        rest = httpx.get(
            f"{server}/api/v1/changes",
            params={"after": resync["next_cursor"], "limit": 1000},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["results"]
        assert got + [e["cursor"] for e in rest] == list(range(1, FeedEntry.objects.count() + 1))
    finally:
        stack.stop()


def test_the_stream_needs_a_token(server):
    response = httpx.get(f"{server}/api/v1/stream")
    assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"
    bad = httpx.get(
        f"{server}/api/v1/stream", headers={"Authorization": "Bearer ev_x_y", "Last-Event-ID": "1"}
    )
    assert bad.status_code == 401
    _, token = token_create(name="ops", role="admin")
    wrong = httpx.get(
        f"{server}/api/v1/stream", headers={"Authorization": f"Bearer {token}", "Last-Event-ID": "abc"}
    )
    assert wrong.status_code == 400
