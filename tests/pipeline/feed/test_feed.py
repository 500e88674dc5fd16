"""The change feed: its shape, paging, scopes, and no gap or repeat under concurrent writers."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from eduvault.identity.services import token_create
from eduvault.integrations.openedx.simulator.synthetic import author_edits, synthetic_course
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.feed.selectors import Scope, feed_page
from eduvault.pipeline.sync.services import course_sync_blocks
from tests.conftest import COURSE_KEY, database_env, small_course

OTHER = "course-v1:MIE+OTHER+2026_T1"


def client_for(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def two_courses(db):
    course = small_course()
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
    course.rename(course.usage_key("sequential", "quadratics"), "Quadratic equations")
    course.delete(course.usage_key("vertical", "quad-u2"))
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
    course_sync_blocks(course_key=OTHER, blocks=small_course(OTHER).blocks_response())
    return course


@pytest.mark.django_db
def test_the_feed_in_commit_order_with_next_cursor(two_courses, api):
    body = api.get("/api/v1/changes").json()
    results, total = body["results"], FeedEntry.objects.count()
    assert len(results) == min(total, 100)
    assert [r["cursor"] for r in results] == list(range(1, len(results) + 1))
    first = results[0]
    assert set(first) >= {"cursor", "course", "op", "id", "kind", "run", "version", "before", "after", "time"}
    assert (first["course"], first["op"], first["kind"], first["version"]) == (
        COURSE_KEY,
        "create",
        "course",
        1,
    )
    update = next(r for r in results if r["op"] == "update")
    assert update["before"] == {"fields": {"title": "Quadratics"}} and update["after"] == {
        "fields": {"title": "Quadratic equations"}
    }
    assert update["version"] == 2
    # Page through: resuming from next_cursor, nothing is missed or repeated.
    seen, after = [], 0
    while True:
        page = api.get(f"/api/v1/changes?after={after}&limit=7").json()
        if not page["results"]:
            assert page["next_cursor"] == after
            break
        seen += [r["cursor"] for r in page["results"]]
        after = page["next_cursor"]
    assert seen == list(range(1, total + 1))


@pytest.mark.django_db
def test_filters_and_consumer_scopes(two_courses, api):
    only_other = api.get("/api/v1/changes", {"course": OTHER, "limit": 1000}).json()
    assert {r["course"] for r in only_other["results"]} == {OTHER}
    assert only_other["next_cursor"] == FeedEntry.objects.count()  # the reader may skip to the head
    topics = api.get("/api/v1/changes?kind=topic&kind=course&limit=1000").json()["results"]
    assert {r["kind"] for r in topics} == {"topic", "course"}

    _, value = token_create(name="student-app", courses=[COURSE_KEY], kinds=["subtopic", "unit"])
    consumer = client_for(value)
    mine = consumer.get("/api/v1/changes?limit=1000").json()["results"]
    assert mine and {(r["course"], r["kind"]) for r in mine} <= {
        (COURSE_KEY, "subtopic"),
        (COURSE_KEY, "unit"),
    }
    # Asking for another course narrows the scope; it never widens it.
    assert consumer.get("/api/v1/changes", {"course": OTHER}).json()["results"] == []
    assert consumer.get("/api/v1/changes?kind=activity").json()["results"] == []


@pytest.mark.django_db
def test_bad_cursors_are_400(api):
    for query in ("after=abc", "after=-1", "limit=ten"):
        response = api.get(f"/api/v1/changes?{query}")
        assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert APIClient().get("/api/v1/changes").status_code == 401


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_make_a_reader_skip_or_repeat(tmp_path):
    """Four processes sync at once (three courses of their own, one shared); a reader polls
    the feed the whole time. A cursor that committed late would be skipped by the reader."""
    files = {}
    for n in range(3):
        base = synthetic_course(300, run=f"W{n}")
        versions = [base]
        for seed in range(3):
            versions.append(author_edits(versions[-1], seed=seed + 20 * n, rate=0.05))
        files[base.course_key] = []
        for i, version in enumerate(versions):
            path = tmp_path / f"w{n}-{i}.json"
            path.write_text(json.dumps(version.blocks_response()))
            files[base.course_key].append(str(path))
    keys = list(files)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.pipeline.sync.sync_worker", "loop", key, *paths, "--rounds", "3"],
            cwd=Path(__file__).resolve().parents[3],
            env=database_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for key, paths in [*files.items(), (keys[0], files[keys[0]][::-1])]
    ]
    seen: list[int] = []
    after = 0
    done = threading.Event()

    def wait_all():
        for w in workers:
            w.wait(300)
        done.set()

    threading.Thread(target=wait_all, daemon=True).start()
    while True:
        finished = done.is_set()
        entries, after = feed_page(after=after, limit=50, scope=Scope())
        seen.extend(e.cursor for e in entries)
        if finished and not entries:
            break
        if not entries:
            time.sleep(0.005)
    for w in workers:
        assert w.returncode == 0, w.stderr.read()
    total = FeedEntry.objects.count()
    assert total > 1000
    assert seen == list(range(1, total + 1)), "the reader missed, repeated or reordered a cursor"
    assert list(FeedEntry.objects.order_by("cursor").values_list("cursor", flat=True)) == seen
