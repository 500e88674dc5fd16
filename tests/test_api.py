"""The read API: tokens on every endpoint, scopes, problem+json errors, a real ASGI server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest
from rest_framework.test import APIClient

from eduvault.identity.services import token_create, token_revoke
from eduvault.pipeline.sync.services import course_sync_blocks
from tests.conftest import COURSE_KEY, database_env, small_course

pytestmark = pytest.mark.django_db

OTHER_KEY = "course-v1:MIE+OTHER+2026_T1"


@pytest.fixture
def synced():
    course = small_course()
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
    course.rename(course.usage_key("chapter", "algebra"), "Algebra <script>alert(1)</script>")
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
    course_sync_blocks(course_key=OTHER_KEY, blocks=small_course(OTHER_KEY).blocks_response())
    return course


def client_with(token: str | None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_problem(response, status: int, detail: str | None = None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if detail:
        assert detail in body["detail"], body
    return body


ENDPOINTS = [
    "/api/v1/courses/",
    f"/api/v1/courses/{COURSE_KEY}/",
    f"/api/v1/courses/{COURSE_KEY}/tree/",
    f"/api/v1/courses/{COURSE_KEY}/runs/",
    "/api/v1/runs/1/",
    "/api/v1/runs/1/changes/",
    "/api/schema/",
    "/api/v1/me",
]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_needs_a_token(synced, path):
    body = assert_problem(client_with(None).get(path), 401, "API token is required")
    assert body["type"] == "about:blank"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_bad_and_revoked_tokens_are_refused(synced, path):
    assert_problem(client_with("ev_nope_nope").get(path), 401, "not valid")
    assert_problem(client_with("garbage").get(path), 401, "malformed")
    _, value = token_create(name="gone", role="admin")
    token_revoke(name="gone")
    assert_problem(client_with(value).get(path), 401)
    response = APIClient().get(path, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert_problem(response, 401, "Bearer")


def test_courses_tree_runs_and_changes(synced, api):
    courses = api.get("/api/v1/courses/").json()
    assert [c["key"] for c in courses["results"]] == [COURSE_KEY, OTHER_KEY]
    course = api.get(f"/api/v1/courses/{COURSE_KEY}/").json()
    assert course["version"] == 2 and course["title"] == "Test Mathematics"

    tree = api.get(f"/api/v1/courses/{COURSE_KEY}/tree/").json()
    assert tree["version"] == 2
    assert tree["tree"]["children"][0]["title"] == "Algebra <script>alert(1)</script>"
    old = api.get(f"/api/v1/courses/{COURSE_KEY}/tree/?version=1").json()
    assert (old["version"], old["tree"]["children"][0]["title"]) == (1, "Algebra")

    runs = api.get(f"/api/v1/courses/{COURSE_KEY}/runs/").json()["results"]
    assert [(r["version_after"], r["outcome"]) for r in runs] == [(2, "applied"), (1, "applied")]
    assert runs[0]["counts"] == {"create": 0, "update": 1, "move": 0, "delete": 0}
    run = api.get(f"/api/v1/runs/{runs[0]['id']}/").json()
    assert run["course_key"] == COURSE_KEY
    changes = api.get(f"/api/v1/runs/{runs[0]['id']}/changes/").json()["results"]
    assert [(c["op"], c["kind"], c["before"], c["after"]) for c in changes] == [
        (
            "update",
            "topic",
            {"fields": {"title": "Algebra"}},
            {"fields": {"title": "Algebra <script>alert(1)</script>"}},
        )
    ]
    assert changes[0]["id"] == synced.usage_key("chapter", "algebra") and isinstance(
        changes[0]["cursor"], int
    )


def test_me_says_who_the_token_is(synced, api):
    assert api.get("/api/v1/me").json() == {"name": "admin", "role": "admin", "kind": "token", "courses": []}


def test_a_consumer_sees_only_its_courses(synced):
    _, value = token_create(name="student-app", role="consumer", courses=[COURSE_KEY])
    consumer = client_with(value)
    assert [c["key"] for c in consumer.get("/api/v1/courses/").json()["results"]] == [COURSE_KEY]
    for path in (
        f"/api/v1/courses/{OTHER_KEY}/",
        f"/api/v1/courses/{OTHER_KEY}/tree/",
        f"/api/v1/courses/{OTHER_KEY}/runs/",
    ):
        assert_problem(consumer.get(path), 404, "no course with key")
    other_run = api_run_id(OTHER_KEY)
    assert_problem(consumer.get(f"/api/v1/runs/{other_run}/"), 404)
    assert_problem(consumer.get(f"/api/v1/runs/{other_run}/changes/"), 404)
    assert consumer.get(f"/api/v1/courses/{COURSE_KEY}/tree/").status_code == 200


def api_run_id(course_key: str) -> int:
    from eduvault.pipeline.sync.models import SyncRun

    return SyncRun.objects.filter(course_key=course_key).latest("id").pk


def test_errors_are_problem_json(synced, api):
    body = assert_problem(api.get("/api/v1/courses/course-v1:No+Such+Course/"), 404, "no course with key")
    assert body["type"] == "urn:eduvault:problem:course-not-found"
    assert body["instance"] == "/api/v1/courses/course-v1:No+Such+Course/"
    assert_problem(api.get(f"/api/v1/courses/{COURSE_KEY}/tree/?version=9"), 404, "there is no version 9")
    assert_problem(api.get(f"/api/v1/courses/{COURSE_KEY}/tree/?version=two"), 400, "whole number")
    assert_problem(api.get("/api/v1/runs/999999/"), 404, "no sync run")
    assert_problem(api.get("/api/v1/nothing-here/"), 404)
    assert_problem(api.post("/api/v1/courses/", {}, format="json"), 405)


def test_oversized_bodies_are_refused_before_anything_reads_them(api):
    response = api.generic(
        "POST", "/api/v1/courses/", b"x" * (1024 * 1024 + 1), content_type="application/json"
    )
    assert_problem(response, 413, "at most 1,048,576")


def test_the_openapi_schema(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert {"/api/v1/courses/", "/api/v1/courses/{key}/tree/", "/api/v1/runs/{run_id}/changes/"} <= set(
        schema["paths"]
    )
    assert {"/api/v1/auth/token", "/api/v1/attempts/{attempt_id}/answers"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_the_openapi_schema_is_valid_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_the_openapi_schema_passes_strict_validation_and_every_operation_has_a_summary():
    from drf_spectacular.generators import SchemaGenerator
    from openapi_spec_validator import validate

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate(schema)  # the OpenAPI 3.0 specification's own validator, strict
    operations = [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) > 80
    # the endpoints that are not DRF views are described too
    assert {"GET /api/v1/stream", "POST /api/v1/webhooks/{source_name}"} <= {f"{m} {p}" for m, p, _ in operations}
    assert [f"{m} {p}" for m, p, o in operations if not o.get("summary", "").strip()] == []
    summaries = [o["summary"] for _, _, o in operations]
    assert len(set(summaries)) == len(summaries), "two operations share a summary"
    # an answer's shape, one per question type, each with an example
    from eduvault.cores.grading import question_types

    shapes = schema["components"]["schemas"]["AnswerInput"]["properties"]["answer"]["anyOf"]
    assert [shape["title"] for shape in shapes] == question_types()
    assert all("example" in shape and shape.get("description") for shape in shapes)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_served_by_uvicorn():
    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    _, token = token_create(name="ops", role="admin")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "eduvault", "serve", "--port", str(port)],
        env=database_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"{base}/api/v1/courses/", headers={"Authorization": f"Bearer {token}"})
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["results"][0]["key"] == COURSE_KEY
        assert response.headers["x-request-id"]
        unauthenticated = httpx.get(f"{base}/api/v1/courses/")
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["content-type"] == "application/problem+json"
        assert unauthenticated.headers["www-authenticate"].startswith("Bearer")
    finally:
        server.terminate()
        server.wait(timeout=10)
