"""Query counts of the hot paths: they must not grow with the size of the bank or the course."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from eduvault.learning.assessments.services import attempt_answer, attempt_start, exam_create
from eduvault.pipeline.content.models import Course
from tests.conftest import COURSE_KEY
from tests.learning.assessments.conftest import CIRCLES, QUADRATICS, choice, load_bank, practice_id

pytestmark = pytest.mark.django_db


def queries(work) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        work()
    # (a statement bound on the server is logged without its text)
    sql = [q["sql"] or "<bound on the server>" for q in ctx.captured_queries]
    return [s for s in sql if "SAVEPOINT" not in s]


@pytest.mark.parametrize("size", [3, 30])
def test_an_answer_costs_the_same_whatever_the_bank(synced, learner, size):
    load_bank(QUADRATICS, [choice(f"q{i}") for i in range(size)])
    load_bank(CIRCLES, [choice(f"c{i}") for i in range(size)])
    attempt, _ = attempt_start(assessment_id=practice_id(QUADRATICS), person=learner.person)
    exam = exam_create(
        course=Course.objects.get(key=COURSE_KEY), title="E", subtopics=[QUADRATICS, CIRCLES], actor="t"
    )
    exam_attempt, _ = attempt_start(assessment_id=exam.pk, person=learner.person)
    attempt_answer(attempt_id=attempt.pk, person=learner.person, client_id="warm", question="q0", answer="a")

    practice = queries(
        lambda: attempt_answer(
            attempt_id=attempt.pk, person=learner.person, client_id="p", question="q1", answer="b"
        )
    )
    on_submit = queries(
        lambda: attempt_answer(
            attempt_id=exam_attempt.pk, person=learner.person, client_id="e", question="q1", answer="b"
        )
    )
    repeated = queries(
        lambda: attempt_answer(
            attempt_id=attempt.pk, person=learner.person, client_id="p", question="q1", answer="b"
        )
    )
    # PostgreSQL: the attempt locked (its deadline checked on it), one read (the answer already
    # stored under the client id, the question and its response) and one write (the response
    # and the answer); practice adds the mastery update (parameters, the row locked, saved).
    # Elsewhere the ORM reads the stored answer and the response apart, and writes the
    # response and the answer apart.
    reads, writes = (2, 1) if connection.vendor == "postgresql" else (3, 2)
    assert len(practice) == reads + 3 + writes, "\n".join(practice)
    # On submit: no mastery yet (it is judged when the exam is submitted).
    assert len(on_submit) == reads + writes, "\n".join(on_submit)
    # A retry: the lock, and the read that finds the stored answer.
    assert len(repeated) == reads, "\n".join(repeated)


def test_listing_assessments_is_a_fixed_number_of_queries(synced, learner, django_assert_max_num_queries):
    load_bank(QUADRATICS, [choice("q1")])
    with django_assert_max_num_queries(4):
        listed = learner.client.get("/api/v1/assessments/", {"course": COURSE_KEY}).json()["results"]
    assert len(listed) == 3 and sum(a["question_count"] for a in listed) == 1
