"""Item analysis against a table computed by hand, the pure statistics against the textbook
formula, and a report whose cost does not grow with the attempts."""

from __future__ import annotations

import statistics

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from eduvault.cores.grading.analysis import ItemSums, item_statistics
from eduvault.learning.assessments.services import attempt_answer, attempt_start, attempt_submit, exam_create
from eduvault.pipeline.content.models import Course
from tests.conftest import COURSE_KEY
from tests.learning.assessments.conftest import ALGEBRA_TEST, load_bank, someone

BANK = [
    {
        "id": "q1",
        "type": "single_choice",
        "prompt": "Which is prime?",
        "choices": [
            {"id": "a", "text": "7", "correct": True},
            {"id": "b", "text": "9"},
            {"id": "c", "text": "15"},
            {"id": "d", "text": "21"},
        ],
    },
    {
        "id": "q2",
        "type": "multiple_response",
        "prompt": "Which are even?",
        "points": 2,
        "choices": [
            {"id": "a", "text": "2", "correct": True},
            {"id": "b", "text": "4", "correct": True},
            {"id": "c", "text": "5"},
            {"id": "d", "text": "7"},
        ],
    },
    {"id": "q3", "type": "numeric", "prompt": "3 x 4?", "answer": 12},
]

#: learner -> answers (None: left blank). Scores: q1 1 point, q2 2 (all or nothing), q3 1.
SHEET = {
    "l1": {"q1": "a", "q2": ["a", "b"], "q3": 12},  # total 4
    "l2": {"q1": "a", "q2": ["a", "c"], "q3": 12},  # 2
    "l3": {"q1": "b", "q2": ["a", "b"], "q3": 10},  # 2
    "l4": {"q1": "b", "q2": ["a"], "q3": 10},  # 0
    "l5": {"q1": "a", "q2": None, "q3": 12},  # 2
}

# By hand. q1: x = 1,1,0,0,1; rest R = T - x = 3,1,2,0,1; mean x .6, mean R 1.4;
# Σdx·dR = .64 - .16 - .36 + .84 - .16 = .8; Σdx² = 1.2; ΣdR² = 5.2; r = .8 / √6.24 = .3203.
# q2: x = 2,0,2,0,0; R = 2,2,0,0,2; Σdx·dR = -.8; Σdx² = ΣdR² = 4.8; r = -.8 / 4.8 = -.1667.
# q3: x and R as q1's.
EXPECTED = {
    "q1": {"attempts": 5, "answered": 5, "facility": 0.6, "mean_credit": 0.6, "discrimination": 0.3203},
    "q2": {"attempts": 5, "answered": 4, "facility": 0.4, "mean_credit": 0.4, "discrimination": -0.1667},
    "q3": {"attempts": 5, "answered": 5, "facility": 0.6, "mean_credit": 0.6, "discrimination": 0.3203},
}
PICKS = {"q1": {"a": 3, "b": 2, "c": 0, "d": 0}, "q2": {"a": 4, "b": 2, "c": 1, "d": 0}}
UNPICKED = {"q1": ["c", "d"], "q2": ["d"], "q3": []}


def sit(exam_id: int, sheet: dict) -> None:
    for username, answers in sheet.items():
        person = someone(username).person
        attempt, _ = attempt_start(assessment_id=exam_id, person=person)
        for question, answer in answers.items():
            if answer is not None:
                attempt_answer(
                    attempt_id=attempt.pk, person=person, client_id=f"{username}-{question}",
                    question=question, answer=answer,
                )
        attempt_submit(attempt_id=attempt.pk, person=person)


@pytest.fixture
def exam(synced):
    load_bank(ALGEBRA_TEST, BANK)
    return exam_create(course=Course.objects.get(key=COURSE_KEY), title="Numbers", subtopics=[ALGEBRA_TEST], actor="t")


def test_the_report_matches_the_table_computed_by_hand(exam, instructor):
    sit(exam.pk, SHEET)
    response = instructor.client.get(f"/api/v1/assessments/{exam.pk}/item-analysis")
    assert response.status_code == 200
    report = response.json()
    assert report["submitted_attempts"] == 5
    items = {i["question"]: i for i in report["items"]}
    for key, expected in EXPECTED.items():
        got = {k: items[key][k] for k in expected}
        assert got == pytest.approx(expected, abs=1e-4), key
    for key, picks in PICKS.items():
        assert {o["id"]: o["picks"] for o in items[key]["options"]} == picks
    assert items["q3"]["options"] is None
    assert {k: items[k]["unpicked_distractors"] for k in UNPICKED} == UNPICKED
    assert report["unpicked_distractors"] == []  # five attempts: too few to flag anything
    assert all(i["flags"] == [] for i in report["items"])


def test_flags_come_with_enough_attempts_and_the_queries_stay_the_same(exam, instructor):
    sit(exam.pk, SHEET)
    with CaptureQueriesContext(connection) as few:
        instructor.client.get(f"/api/v1/assessments/{exam.pk}/item-analysis")
    sit(exam.pk, {f"{name}-{n}": answers for n in range(2) for name, answers in SHEET.items()})
    with CaptureQueriesContext(connection) as many:
        report = instructor.client.get(f"/api/v1/assessments/{exam.pk}/item-analysis").json()
    assert len(many.captured_queries) == len(few.captured_queries) <= 12
    items = {i["question"]: i for i in report["items"]}
    assert items["q1"]["attempts"] == 15 and items["q1"]["discrimination"] == pytest.approx(0.3203, abs=1e-4)
    assert items["q2"]["flags"] == ["weak discrimination", "unpicked distractors"]
    assert report["unpicked_distractors"] == ["q1", "q2"]


def test_learners_and_consumers_cannot_read_it(exam, learner, api):
    assert learner.client.get(f"/api/v1/assessments/{exam.pk}/item-analysis").status_code == 403
    assert api.get("/api/v1/assessments/999999/item-analysis").status_code == 404


pairs = st.lists(
    st.tuples(st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.integers(min_value=0, max_value=40)), min_size=2, max_size=60
)


@settings(max_examples=200, deadline=None)
@given(pairs, st.sampled_from([1.0, 2.0, 0.5]))
def test_sums_give_the_textbook_item_rest_correlation(rows, points):
    """From sums, as the database gives them, the same as correlating the raw columns."""
    credit = [s for s, _ in rows]
    totals = [s * points + other for s, other in rows]  # an attempt's total holds the item's score
    sums = ItemSums(
        n=len(rows), correct=sum(s == 1.0 for s in credit), answered=len(rows), s=sum(credit),
        s2=sum(s * s for s in credit), t=sum(totals), t2=sum(t * t for t in totals),
        st=sum(s * t for s, t in zip(credit, totals)),
    )
    got = item_statistics(sums, points).discrimination
    x = [s * points for s in credit]
    rest = [t - xi for t, xi in zip(totals, x)]
    if len(set(x)) < 2 or len(set(rest)) < 2:
        assert got is None
    else:
        assert got == pytest.approx(statistics.correlation(x, rest), abs=1e-6)


def test_the_console_page_draws_every_question(exam, settings):
    from django.test import Client

    from eduvault.identity.services import user_create

    sit(exam.pk, SHEET)
    client = Client()
    client.force_login(user_create(username="operator", role="admin", password="a long admin password"))
    listing = client.get("/console/assessments/").content.decode()
    assert f"/console/assessments/{exam.pk}/items" in listing
    page = client.get(f"/console/assessments/{exam.pk}/items").content.decode()
    for key in ("q1", "q2", "q3"):
        assert f'<g class="dot ok" data-question="{key}">' in page
    assert 'id="unpicked-count">0<' in page
    assert client.get("/console/assessments/999999/items").status_code == 404
