"""Attempts through the API: start, answer with progressive feedback, submit, results."""

from __future__ import annotations

import pytest

from eduvault.identity.models import Person
from eduvault.learning.assessments.models import Answer, Attempt, Response
from tests.conftest import COURSE_KEY
from tests.learning.assessments.conftest import (
    ALGEBRA_TEST,
    CIRCLES,
    QUADRATICS,
    choice,
    load_bank,
    numeric,
    practice_id,
    right_answer,
)
from tests.test_api import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(synced):
    load_bank(QUADRATICS, [choice("q1", penalty=0.25), numeric("q2"), choice("q3", right="c")])
    return practice_id(QUADRATICS)


def start(who, assessment_id: int, status: int = 201) -> dict:
    response = who.client.post(f"/api/v1/assessments/{assessment_id}/attempts")
    assert response.status_code == status, response.content
    return response.json()


def answer(who, attempt: dict, question: str, value, client_id: str, status: int = 201) -> dict:
    response = who.client.post(
        f"/api/v1/attempts/{attempt['id']}/answers",
        {"client_id": client_id, "question": question, "answer": value},
        format="json",
    )
    assert response.status_code == status, response.content
    return response.json()


def test_practice_gives_feedback_hints_then_the_explanation(practice, learner):
    attempt = start(learner, practice)
    assert [q["question"]["id"] for q in attempt["questions"]] == ["q1", "q2", "q3"]
    shown = attempt["questions"][0]["question"]
    assert {c["id"] for c in shown["choices"]} == {"a", "b", "c", "d"}
    assert "correct" not in str(shown) and "explanation" not in shown

    first = answer(learner, attempt, "q1", "a", "c1")
    assert first["correct"] is False and first["score"] == 0
    assert first["hints"] == ["First hint."] and first["explanation"] is None
    assert first["feedback"] == "you chose a" and first["tries_left"] == 2
    second = answer(learner, attempt, "q1", "c", "c2")
    assert second["hints"] == ["First hint.", "Second hint."] and second["tries_left"] == 1
    third = answer(learner, attempt, "q1", "b", "c3")
    # Right on the third try: full credit less two penalties of 0.25.
    assert third["correct"] is True and third["score"] == pytest.approx(0.5)
    assert third["explanation"] == "The answer is b." and third["done"] is True
    assert_problem(
        learner.client.post(
            f"/api/v1/attempts/{attempt['id']}/answers",
            {"client_id": "c4", "question": "q1", "answer": "b"},
            format="json",
        ),
        409,
        "was answered correctly",
    )

    answer(learner, attempt, "q2", 12.45, "c5")
    submitted = learner.client.post(f"/api/v1/attempts/{attempt['id']}/submit").json()
    assert submitted["status"] == "submitted" and submitted["closed_by"] == "learner"
    assert submitted["score"] == pytest.approx(1.5) and submitted["max_score"] == 3
    assert submitted["passed"] is False  # 50% < 60%
    # Submitted attempts are immutable; submitting again is a harmless retry.
    assert_problem(
        learner.client.post(
            f"/api/v1/attempts/{attempt['id']}/answers",
            {"client_id": "c6", "question": "q3", "answer": "c"},
            format="json",
        ),
        409,
        "submitted",
    )
    again = learner.client.post(f"/api/v1/attempts/{attempt['id']}/submit")
    assert again.status_code == 200 and again.json()["submitted_at"] == submitted["submitted_at"]


def test_a_retried_answer_counts_once_and_a_reused_client_id_is_refused(practice, learner):
    attempt = start(learner, practice)
    first = answer(learner, attempt, "q1", "a", "retry-me")
    again = answer(learner, attempt, "q1", "a", "retry-me", status=200)
    assert again == first
    assert Answer.objects.filter(attempt_id=attempt["id"]).count() == 1
    assert Response.objects.get(attempt_id=attempt["id"], question__key="q1").tries == 1
    body = assert_problem(
        learner.client.post(
            f"/api/v1/attempts/{attempt['id']}/answers",
            {"client_id": "retry-me", "question": "q1", "answer": "b"},
            format="json",
        ),
        409,
    )
    assert "client_id" in body["detail"]


@pytest.mark.parametrize(
    ("question", "value", "fragment"),
    [
        ("q1", "z", "choice"),
        ("q1", ["a"], ""),
        ("q2", "twelve", "number"),
        ("q2", {"nested": [1, 2]}, ""),
        ("q2", True, ""),
        ("nope", "a", "no question"),
    ],
)
def test_malformed_answers_are_clear_errors_that_change_nothing(practice, learner, question, value, fragment):
    attempt = start(learner, practice)
    response = learner.client.post(
        f"/api/v1/attempts/{attempt['id']}/answers",
        {"client_id": "x", "question": question, "answer": value},
        format="json",
    )
    status = 400 if question == "nope" else 422
    body = assert_problem(response, status, fragment)
    assert body["detail"]
    assert not Answer.objects.filter(attempt_id=attempt["id"]).exists()
    assert not Response.objects.filter(attempt_id=attempt["id"], tries__gt=0).exists()


def test_starting_again_resumes_with_the_same_questions_in_the_same_order(synced, learner):
    load_bank(QUADRATICS, [choice(f"s{i}") for i in range(6)])
    first = start(learner, practice_id(QUADRATICS))
    again = start(learner, practice_id(QUADRATICS), status=200)
    assert again["id"] == first["id"]
    assert [q["question"] for q in again["questions"]] == [q["question"] for q in first["questions"]]
    orders = {tuple(c["id"] for c in q["question"]["choices"]) for q in first["questions"]}
    assert len(orders) > 1, "options are shuffled per question"
    fetched = learner.client.get(f"/api/v1/attempts/{first['id']}/").json()
    assert [q["question"] for q in fetched["questions"]] == [q["question"] for q in first["questions"]]


def test_learners_see_only_their_own_attempts(practice, learner, other_learner, instructor):
    attempt = start(learner, practice)
    assert_problem(other_learner.client.get(f"/api/v1/attempts/{attempt['id']}/"), 404)
    assert_problem(
        other_learner.client.post(
            f"/api/v1/attempts/{attempt['id']}/answers",
            {"client_id": "x", "question": "q1", "answer": "a"},
            format="json",
        ),
        404,
    )
    assert_problem(other_learner.client.post(f"/api/v1/attempts/{attempt['id']}/submit"), 404)
    assert other_learner.client.get("/api/v1/attempts/").json()["results"] == []
    assert [a["id"] for a in learner.client.get("/api/v1/attempts/").json()["results"]] == [attempt["id"]]
    assert_problem(other_learner.client.get("/api/v1/learners/amina/results"), 403)
    # Staff see anyone's, with the solutions, but do not answer for them.
    staff_view = instructor.client.get(f"/api/v1/attempts/{attempt['id']}/").json()
    assert staff_view["questions"][0]["solution"] == "b"
    assert_problem(
        instructor.client.post(
            f"/api/v1/attempts/{attempt['id']}/answers",
            {"client_id": "x", "question": "q1", "answer": "a"},
            format="json",
        ),
        403,
    )
    assert "solution" not in str(learner.client.get(f"/api/v1/attempts/{attempt['id']}/").json())


def test_exams_draw_n_per_attempt_stratified_by_subtopic_and_report_on_submit(
    synced, learner, other_learner, instructor
):
    load_bank(QUADRATICS, [choice(f"quad-{i}") for i in range(6)])
    load_bank(CIRCLES, [numeric(f"circ-{i}", answer=3.14) for i in range(6)])
    created = instructor.client.post(
        "/api/v1/assessments/",
        {
            "course": COURSE_KEY,
            "title": "Mid-term",
            "subtopics": [QUADRATICS, CIRCLES],
            "questions_per_attempt": 4,
            "passing_threshold": 0.5,
            "attempt_limit": 1,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    exam = created.json()
    assert exam["kind"] == "exam" and exam["settings"]["feedback"] == "on_submit"
    assert exam["question_count"] == 12

    attempts = {}
    for who in (learner, other_learner):
        attempt = start(who, exam["id"])
        keys = [q["question"]["id"] for q in attempt["questions"]]
        assert len(keys) == 4
        assert sum(k.startswith("quad") for k in keys) == 2 and sum(k.startswith("circ") for k in keys) == 2
        attempts[who.username] = attempt

    # On-submit feedback: answers are recorded, not judged, and may be changed.
    attempt = attempts["amina"]
    questions = [q["question"] for q in attempt["questions"]]
    for n, q in enumerate(questions):
        result = answer(learner, attempt, q["id"], right_answer(q), f"e{n}")
        assert result["recorded"] is True and "correct" not in result
    answer(
        learner, attempt, questions[0]["id"], right_answer(questions[0]), "e-again"
    )  # changed, still right
    submitted = learner.client.post(f"/api/v1/attempts/{attempt['id']}/submit").json()
    assert submitted["score"] == 4 and submitted["passed"] is True
    assert all(q["correct"] for q in submitted["questions"])
    # One attempt only.
    assert_problem(learner.client.post(f"/api/v1/assessments/{exam['id']}/attempts"), 409, "no attempts left")

    results = instructor.client.get(f"/api/v1/assessments/{exam['id']}/results").json()
    by_name = {row["learner"]["username"]: row for row in results["learners"]}
    assert by_name["amina"]["passed"] is True and by_name["amina"]["best_score"] == 4
    assert by_name["chikondi"]["submitted"] == 0
    assert results["totals"]["submitted_attempts"] == 1 and results["totals"]["pass_rate"] == 1.0
    learner_view = instructor.client.get("/api/v1/learners/amina/results").json()
    assert learner_view["attempts"][0]["score"] == 4
    assert_problem(learner.client.get(f"/api/v1/assessments/{exam['id']}/results"), 403)


def test_grades_enter_the_change_feed_with_critical_priority(practice, learner, api):
    attempt = start(learner, practice)
    answer(learner, attempt, "q1", "b", "g1")
    learner.client.post(f"/api/v1/attempts/{attempt['id']}/submit")
    feed = api.get("/api/v1/changes", {"kind": "grade"}).json()["results"]
    assert len(feed) == 1
    grade = feed[0]
    assert grade["priority"] == "critical" and grade["op"] == "create" and grade["course"] == COURSE_KEY
    assert grade["id"] == f"record:{grade['after']['record']['id']}"
    fields = grade["after"]["fields"]
    assert fields["attempt"] == attempt["id"] and fields["score"] == 1 and fields["max"] == 3
    assert Person.objects.get(pk=grade["after"]["record"]["person"]).user.username == "amina"
    # Content changes keep their place in the same sequence, as background work.
    everything = api.get("/api/v1/changes", {"limit": 1000}).json()["results"]
    cursors = [e["cursor"] for e in everything]
    assert cursors == sorted(cursors) and everything[-1]["kind"] == "grade"
    content = [e for e in everything[:-1] if e["kind"] not in ("enrollment", "grade")]
    assert content and {e["priority"] for e in content} == {"background"}
    # Starting the attempt enrolled the learner in the course.
    assert [e["after"]["fields"]["role"] for e in everything if e["kind"] == "enrollment"] == ["learner"]


def test_exam_settings_are_checked(synced, instructor, learner):
    load_bank(ALGEBRA_TEST, [choice("t1")])
    bad = [
        ({"subtopics": ["block-v1:nope"]}, "no subtopic"),
        ({"passing_threshold": 2}, "passing_threshold"),
        ({"mastery_rule": {"rule": "m_of_n", "m": 5, "n": 3}}, "m"),
        ({"feedback": "sometimes"}, "feedback"),
    ]
    for change, fragment in bad:
        body = {"course": COURSE_KEY, "title": "T", "subtopics": [ALGEBRA_TEST], **change}
        response = instructor.client.post("/api/v1/assessments/", body, format="json")
        assert response.status_code == 400, response.content
        assert fragment in str(response.json()), response.json()
    assert_problem(
        learner.client.post(
            "/api/v1/assessments/",
            {"course": COURSE_KEY, "title": "T", "subtopics": [ALGEBRA_TEST]},
            format="json",
        ),
        403,
    )
    assert Attempt.objects.count() == 0
