"""The answer's lean route as `eduvault serve` runs it (a WSGI callable in front of Django):
the same answers, errors, bounds and headers as every other endpoint, and every other
request passed on to Django untouched."""

from __future__ import annotations

import io
import uuid

import orjson
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from eduvault.config.wsgi import short_requests
from eduvault.identity.services import token_create
from eduvault.kernel.lean import lean_wsgi
from eduvault.learning.assessments.models import Answer
from eduvault.learning.assessments.services import attempt_start
from tests.learning.assessments.conftest import QUADRATICS, choice, load_bank, practice_id

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def app():
    return lean_wsgi(short_requests())


def call(app, method: str, path: str, *, body: bytes = b"", token: str | None = None, **extra: str):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        **extra,
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    # As Django's test client does: the request's signals must not close the test's
    # connection (its transaction holds the test's data).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        content = b"".join(app(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return seen["status"], seen["headers"], content


@pytest.fixture
def attempt(synced, learner):
    from eduvault.identity.services import access_token_issue

    load_bank(QUADRATICS, [choice("c1"), choice("c2")])
    started, _ = attempt_start(assessment_id=practice_id(QUADRATICS), person=learner.person)
    return started, access_token_issue(person=learner.person)


def answer_body(client_id: str = "a1", question: str = "c1", answer="b", **extra) -> bytes:
    return orjson.dumps({"client_id": client_id, "question": question, "answer": answer, **extra})


def test_an_answer_is_recorded_once_and_a_retry_gets_the_first_result(app, attempt):
    started, token = attempt
    path = f"/api/v1/attempts/{started.pk}/answers"
    status, headers, content = call(app, "POST", path, body=answer_body(), token=token, HTTP_X_REQUEST_ID="exam-42")
    assert status == 201 and headers["Content-Type"] == "application/json"
    assert headers["X-Request-ID"] == "exam-42" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY" and int(headers["Content-Length"]) == len(content)
    first = orjson.loads(content)
    assert first["correct"] is True and first["client_id"] == "a1"
    status, _, again = call(app, "POST", path, body=answer_body(), token=token)
    assert status == 200 and orjson.loads(again) == first
    assert Answer.objects.filter(attempt=started).count() == 1
    # the same route through Django and DRF (the test client's way in) answers alike
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    through_drf = client.post(path, answer_body(), content_type="application/json")
    assert through_drf.status_code == 200 and through_drf.json() == first


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"", 400, "empty"),
        (b"{not json", 400, "JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (orjson.dumps({"question": "c1", "answer": "a"}), 400, "client_id"),
        (answer_body(client_id=""), 400, "client_id"),
        (answer_body(client_id="x" * 101), 400, "client_id"),
        (answer_body(question=7), 400, "question"),
        (answer_body(extra="?"), 400, "extra"),
        (answer_body(question="nope"), 400, "no question 'nope'"),
        (b'{"client_id": "a\\u0000", "question": "c1", "answer": "a"}', 400, "NUL"),
        (b'{"client_id": "n", "question": "c1", "answer": ' + b"[" * 200 + b"]" * 200 + b"}", 400, "deep"),
    ],
)
def test_bad_answers_are_problems_and_change_nothing(app, attempt, body, status, words):
    started, token = attempt
    got, headers, content = call(app, "POST", f"/api/v1/attempts/{started.pk}/answers", body=body, token=token)
    problem = orjson.loads(content)
    assert got == status and headers["Content-Type"] == "application/problem+json", problem
    assert words.lower() in problem["detail"].lower(), problem
    assert problem["status"] == status and problem["instance"] == f"/api/v1/attempts/{started.pk}/answers"
    assert Answer.objects.count() == 0


def test_who_may_answer(app, attempt, other_learner):
    from eduvault.identity.services import access_token_issue

    started, token = attempt
    path = f"/api/v1/attempts/{started.pk}/answers"
    status, headers, _ = call(app, "POST", path, body=answer_body())
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert call(app, "POST", path, body=answer_body(), token="ev_bad_token")[0] == 401
    assert call(app, "POST", path, body=answer_body(), token="a.b.c")[0] == 401
    _, admin = token_create(name="ops", role="admin")
    assert call(app, "POST", path, body=answer_body(), token=admin)[0] == 403
    someone_else = access_token_issue(person=other_learner.person)
    assert call(app, "POST", path, body=answer_body(), token=someone_else)[0] == 404  # not theirs: not there
    missing = f"/api/v1/attempts/{uuid.uuid4()}/answers"
    assert call(app, "POST", missing, body=answer_body(), token=token)[0] == 404
    assert call(app, "POST", "/api/v1/attempts/not-a-uuid/answers", body=answer_body(), token=token)[0] == 404
    assert Answer.objects.count() == 0


def test_bodies_are_bounded_before_they_are_read(app, attempt, settings):
    started, token = attempt
    settings.EDUVAULT_MAX_REQUEST_BYTES = 100
    path = f"/api/v1/attempts/{started.pk}/answers"
    status, _, content = call(app, "POST", path, body=answer_body(answer="x" * 200), token=token)
    assert status == 413 and "at most 100 bytes" in orjson.loads(content)["detail"]
    chunked = answer_body(answer="y" * 200)
    status, _, _ = call(
        app, "POST", path, body=chunked, token=token, CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked"
    )
    assert status == 413
    assert call(app, "POST", path, body=b"{}", token=token, CONTENT_LENGTH="ten")[0] == 400


def test_every_other_request_goes_to_django(app, attempt):
    started, token = attempt
    status, headers, content = call(app, "GET", f"/api/v1/attempts/{started.pk}/", token=token)
    assert status == 200 and orjson.loads(content)["id"] == str(started.pk)
    status, _, _ = call(app, "GET", f"/api/v1/attempts/{started.pk}/answers", token=token)
    assert status == 405  # Django's view for the path: answers are only POSTed
    assert call(app, "POST", f"/api/v1/attempts/{started.pk}/answers/extra", token=token)[0] == 404
