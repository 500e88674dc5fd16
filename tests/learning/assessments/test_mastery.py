"""Mastery: knowledge tracing updated online with each graded answer, rules per assessment,
`eduvault mastery trace` and `eduvault mastery fit`."""

from __future__ import annotations

import random

import pytest

from eduvault.cores.mastery import DEFAULT_PARAMS, BktParams, trace
from eduvault.learning.assessments.models import Assessment, Mastery, SkillParameters
from eduvault.learning.assessments.services import (
    assessment_update,
    attempt_answer,
    attempt_start,
    attempt_submit,
    exam_create,
)
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.feed.models import FeedEntry
from tests.conftest import COURSE_KEY, run_cli
from tests.learning.assessments.conftest import CIRCLES, QUADRATICS, choice, load_bank, practice_id, someone

pytestmark = pytest.mark.django_db


def answer_all(person, attempt, outcomes: list[bool], prefix: str = "m") -> None:
    for i, right in enumerate(outcomes):
        attempt_answer(
            attempt_id=attempt.pk,
            person=person,
            client_id=f"{prefix}{i}",
            question=f"{prefix}{i}",
            answer="b" if right else "a",
        )


def test_each_first_try_updates_the_probability_online(synced, learner):
    load_bank(QUADRATICS, [choice(f"m{i}") for i in range(5)])
    attempt, _ = attempt_start(assessment_id=practice_id(QUADRATICS), person=learner.person)
    outcomes = [True, False, True, True]
    answer_all(learner.person, attempt, outcomes)
    # A second try at a question is not new evidence: it does not move the estimate.
    attempt_answer(attempt_id=attempt.pk, person=learner.person, client_id="again", question="m1", answer="b")
    row = Mastery.objects.get(learner_id=learner.person.id, subtopic=QUADRATICS)
    assert row.p_known == pytest.approx(trace(DEFAULT_PARAMS, outcomes)[-1], abs=1e-12)
    assert row.answers == 4 and row.correct == 3 and row.recent == outcomes
    assert not row.mastered
    mine = learner.client.get("/api/v1/mastery", {"course": COURSE_KEY}).json()["results"]
    assert mine[0]["subtopic"] == QUADRATICS and mine[0]["p_known"] == round(row.p_known, 6)


def test_fitted_parameters_are_used_and_mastery_is_announced_once(synced, learner, api):
    course = Course.objects.get(key=COURSE_KEY)
    params = BktParams(prior=0.5, learn=0.3, guess=0.1, slip=0.05)
    SkillParameters.objects.create(
        course=course, subtopic=QUADRATICS, fitted_at="2026-11-01T00:00Z", **params.to_dict()
    )
    load_bank(QUADRATICS, [choice(f"m{i}") for i in range(6)])
    attempt, _ = attempt_start(assessment_id=practice_id(QUADRATICS), person=learner.person)
    answer_all(learner.person, attempt, [True, True, True, True, True])
    row = Mastery.objects.get(learner_id=learner.person.id, subtopic=QUADRATICS)
    assert row.p_known == pytest.approx(trace(params, [1, 1, 1, 1, 1])[-1], abs=1e-12)
    expected_at = next(i for i, p in enumerate(trace(params, [1, 1, 1, 1, 1])) if p >= 0.95)
    assert row.mastered
    events = FeedEntry.objects.filter(kind="mastery")
    assert events.count() == 1 and events[0].priority == "high"
    assert events[0].after["fields"]["answers"] == expected_at + 1
    feed = api.get("/api/v1/changes", {"kind": "mastery"}).json()["results"]
    assert feed[0]["op"] == "create" and feed[0]["priority"] == "high"


def test_kolibri_rules_per_assessment(synced, learner):
    assessment_update(
        assessment_id=practice_id(QUADRATICS), actor="test", mastery_rule={"rule": "m_of_n", "m": 3, "n": 4}
    )
    load_bank(QUADRATICS, [choice(f"m{i}") for i in range(6)])
    attempt, _ = attempt_start(assessment_id=practice_id(QUADRATICS), person=learner.person)
    answer_all(learner.person, attempt, [True, False, True])
    assert not Mastery.objects.get(subtopic=QUADRATICS).mastered
    attempt_answer(attempt_id=attempt.pk, person=learner.person, client_id="x", question="m3", answer="b")
    row = Mastery.objects.get(subtopic=QUADRATICS)
    assert row.mastered and row.p_known < 0.95  # the rule decided, not the probability


def test_exam_answers_count_at_submission(synced, learner):
    load_bank(CIRCLES, [choice(f"m{i}") for i in range(3)])
    exam = exam_create(course=Course.objects.get(key=COURSE_KEY), title="E", subtopics=[CIRCLES], actor="t")
    attempt, _ = attempt_start(assessment_id=exam.pk, person=learner.person)
    answer_all(learner.person, attempt, [False, True])
    attempt_answer(attempt_id=attempt.pk, person=learner.person, client_id="fix", question="m0", answer="b")
    assert not Mastery.objects.exists(), "an exam judges nothing before it is submitted"
    attempt_submit(attempt_id=attempt.pk, person=learner.person)
    row = Mastery.objects.get(subtopic=CIRCLES)
    assert row.answers == 2 and row.p_known == pytest.approx(trace(DEFAULT_PARAMS, [1, 1])[-1])


def expected_trace(prior: float, learn: float, guess: float, slip: float, answers: list[int]) -> list[str]:
    out, p = [], prior
    for a in answers:
        if a:
            p = p * (1 - slip) / (p * (1 - slip) + (1 - p) * guess)
        else:
            p = p * slip / (p * slip + (1 - p) * (1 - guess))
        p = p + (1 - p) * learn
        out.append(f"{p:.6f}")
    return out


def test_mastery_trace_prints_six_decimals_per_answer():
    result = run_cli(
        "mastery",
        "trace",
        "--prior",
        "0.3",
        "--learn",
        "0.1",
        "--guess",
        "0.2",
        "--slip",
        "0.1",
        "--answers",
        "1,0,1,1",
        check=True,
    )
    assert result.stdout.splitlines() == expected_trace(0.3, 0.1, 0.2, 0.1, [1, 0, 1, 1])
    assert result.stdout.splitlines()[0] == "0.692683"  # 0.27 / 0.41 = 0.658537, then + 0.341463 * 0.1
    bad = run_cli(
        "mastery",
        "trace",
        "--prior",
        "1.5",
        "--learn",
        "0.1",
        "--guess",
        "0.2",
        "--slip",
        "0.1",
        "--answers",
        "1",
    )
    assert bad.returncode == 2 and "prior" in bad.stderr
    bad = run_cli(
        "mastery",
        "trace",
        "--prior",
        "0.5",
        "--learn",
        "0.1",
        "--guess",
        "0.2",
        "--slip",
        "0.1",
        "--answers",
        "1,2",
    )
    assert bad.returncode == 2 and "'2'" in bad.stderr


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_mastery_fit_estimates_parameters_from_recorded_answers(synced):
    truth = BktParams(prior=0.25, learn=0.2, guess=0.15, slip=0.1)
    load_bank(QUADRATICS, [choice(f"m{i}") for i in range(8)])
    rng = random.Random(7)
    sequences = {}
    for n in range(120):
        who = someone(f"learner{n}").person
        known = rng.random() < truth.prior
        outcomes = []
        for _ in range(8):
            outcomes.append(rng.random() < ((1 - truth.slip) if known else truth.guess))
            known = known or rng.random() < truth.learn
        attempt, _ = attempt_start(assessment_id=practice_id(QUADRATICS), person=who)
        answer_all(who, attempt, outcomes)
        sequences[who.id] = [int(o) for o in outcomes]
    result = run_cli("mastery", "fit", "--course", COURSE_KEY, "--num-fits", "3", check=True, timeout=300)
    assert "fitted 1 of 1 subtopics" in result.stdout
    fitted = SkillParameters.objects.get(subtopic=QUADRATICS)
    assert fitted.answers == 960 and fitted.learners == 120
    for name in ("prior", "learn", "guess", "slip"):
        assert abs(getattr(fitted, name) - getattr(truth, name)) < 0.15, (name, getattr(fitted, name))
    params = BktParams(prior=fitted.prior, learn=fitted.learn, guess=fitted.guess, slip=fitted.slip)
    for learner_id, outcomes in list(sequences.items())[:10]:
        row = Mastery.objects.get(learner_id=learner_id, subtopic=QUADRATICS)
        assert row.p_known == pytest.approx(trace(params, outcomes)[-1], abs=1e-9)
    assert Assessment.objects.filter(kind="practice").count() == 3
