"""A client generated from the OpenAPI schema (openapi-python-client) works against a running
`eduvault serve`: a learner signs in, starts an exam, answers in two of the documented shapes
(a retry counted once), submits; an admin token reads `me` and searches."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from django.contrib.auth.hashers import make_password

from tests.conftest import COURSE_KEY, small_course
from tests.learning.assessments.conftest import ALGEBRA_TEST, load_bank
from tests.stack import Stack

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.once]

BANK = [
    {
        "id": "prime",
        "type": "single_choice",
        "prompt": "Which is prime?",
        "choices": [{"id": "a", "text": "7", "correct": True}, {"id": "b", "text": "9"}],
    },
    {
        "id": "even",
        "type": "multiple_response",
        "prompt": "Which are even?",
        "choices": [
            {"id": "a", "text": "2", "correct": True},
            {"id": "b", "text": "4", "correct": True},
            {"id": "c", "text": "5"},
        ],
    },
]


def generate(tmp_path: Path):
    from drf_spectacular.generators import SchemaGenerator

    schema = tmp_path / "schema.json"
    schema.write_bytes(orjson.dumps(SchemaGenerator().get_schema(request=None, public=True)))
    tool = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [str(tool), "generate", "--path", str(schema), "--output-path", str(tmp_path / "eduvault_client"), "--meta", "none"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING parsing" not in output, output  # every operation was understood
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module("eduvault_client")
    finally:
        sys.path.remove(str(tmp_path))


def test_a_client_generated_from_the_schema_works_against_a_running_server(tmp_path):
    from eduvault.identity.services import token_create, user_create
    from eduvault.learning.assessments.models import Answer
    from eduvault.learning.assessments.services import exam_create
    from eduvault.pipeline.content.models import Course
    from eduvault.pipeline.sync.services import course_sync_blocks

    client_package = generate(tmp_path)
    from eduvault_client.api.v1 import (  # type: ignore[import-not-found]
        v1_assessments_attempts_create,
        v1_attempts_answers_create,
        v1_attempts_submit_create,
        v1_auth_token_create,
        v1_me_retrieve,
        v1_search,
    )
    from eduvault_client.models import AnswerInput, SignInInput  # type: ignore[import-not-found]

    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    load_bank(ALGEBRA_TEST, BANK)
    exam = exam_create(course=Course.objects.get(key=COURSE_KEY), title="Numbers", subtopics=[ALGEBRA_TEST], actor="t")
    learner = user_create(username="amina", role="learner", password=None)
    learner.password = make_password("correct horse battery", hasher="pbkdf2_sha256")  # the server's hasher
    learner.save(update_fields=["password"])
    _, admin = token_create(name="ops", role="admin")
    stack = Stack("")
    try:
        url = stack.serve()
        anonymous = client_package.Client(base_url=url, raise_on_unexpected_status=True)
        signed_in = v1_auth_token_create.sync_detailed(
            client=anonymous, body=SignInInput(username="amina", password="correct horse battery")
        )
        assert signed_in.status_code == 200, signed_in.content
        person = client_package.AuthenticatedClient(base_url=url, token=signed_in.parsed.access)
        started = v1_assessments_attempts_create.sync_detailed(assessment_id=exam.pk, client=person)
        assert started.status_code == 201, started.content
        attempt = orjson.loads(started.content)["id"]
        for body in (
            AnswerInput(client_id="one", question="prime", answer="a"),
            AnswerInput(client_id="two", question="even", answer=["a", "b"]),
            AnswerInput(client_id="two", question="even", answer=["a", "b"]),  # a retry
        ):
            answered = v1_attempts_answers_create.sync_detailed(attempt_id=attempt, client=person, body=body)
            assert answered.status_code in (200, 201), answered.content
        assert answered.status_code == 200  # the retry: the first result, counted once
        submitted = v1_attempts_submit_create.sync_detailed(attempt_id=attempt, client=person)
        assert submitted.status_code == 200 and orjson.loads(submitted.content)["score"] == 2
        assert Answer.objects.count() == 2

        operator = client_package.AuthenticatedClient(base_url=url, token=admin)
        me = v1_me_retrieve.sync_detailed(client=operator)
        assert me.status_code == 200 and me.parsed.name == "ops"
        found = v1_search.sync_detailed(client=operator, q="prime")
        assert found.status_code == 200
        assert [(hit.type_, hit.ref) for hit in found.parsed.results] == [("question", "prime")]
    finally:
        stack.stop()
