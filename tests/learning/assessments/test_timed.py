"""Timed exams: the server's clock, deadlines with extra time and grace, lazy expiry, the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from eduvault.learning.assessments.models import Assessment, Attempt
from eduvault.learning.assessments.services import attempt_expire_overdue, exam_create, extra_time_grant
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.feed.models import FeedEntry
from tests.conftest import COURSE_KEY
from tests.learning.assessments.conftest import QUADRATICS, choice, load_bank
from tests.learning.assessments.test_attempts import answer, start
from tests.test_api import assert_problem

pytestmark = pytest.mark.django_db


def timed_exam(**settings) -> Assessment:
    load_bank(QUADRATICS, [choice("t1"), choice("t2")])
    defaults = {"time_limit_seconds": 600, "grace_seconds": 30}
    return exam_create(
        course=Course.objects.get(key=COURSE_KEY),
        title="Timed",
        subtopics=[QUADRATICS],
        actor="test",
        **{**defaults, **settings},
    )


def overdue(attempt_id: str, seconds: float = 1) -> Attempt:
    """Move an attempt's clock on: it started long enough ago to be ``seconds`` past its deadline."""
    attempt = Attempt.objects.get(pk=attempt_id)
    shift = attempt.deadline - timezone.now() + timedelta(seconds=seconds)
    Attempt.objects.filter(pk=attempt_id).update(
        started_at=attempt.started_at - shift,
        ends_at=attempt.ends_at - shift,
        deadline=attempt.deadline - shift,
    )
    return Attempt.objects.get(pk=attempt_id)


def test_the_deadline_is_time_limit_plus_extra_time_capped_at_due_plus_grace(synced, learner, other_learner):
    exam = timed_exam()
    extra_time_grant(assessment_id=exam.pk, learner="chikondi", seconds=300, actor="test")
    before = timezone.now()
    plain = Attempt.objects.get(pk=start(learner, exam.pk)["id"])
    extended = Attempt.objects.get(pk=start(other_learner, exam.pk)["id"])
    assert timedelta(seconds=600) <= plain.ends_at - before < timedelta(seconds=602)
    assert plain.deadline - plain.ends_at == timedelta(seconds=30)
    assert timedelta(seconds=900) <= extended.ends_at - before < timedelta(seconds=902)

    # A due date sooner than the time limit caps the time.
    due = timezone.now() + timedelta(seconds=120)
    Assessment.objects.filter(pk=exam.pk).update(due_at=due, attempt_limit=2)
    Attempt.objects.all().delete()
    capped = Attempt.objects.get(pk=start(other_learner, exam.pk)["id"])
    assert capped.ends_at == due and capped.deadline == due + timedelta(seconds=30)


def test_clients_get_seconds_remaining_not_timestamps(synced, learner, instructor):
    exam = timed_exam()
    attempt = start(learner, exam.pk)
    assert 598 <= attempt["seconds_remaining"] <= 600
    assert "deadline" not in attempt and "ends_at" not in attempt
    result = answer(learner, attempt, "t1", "b", "a1")
    assert 598 <= result["seconds_remaining"] <= 600
    staff = instructor.client.get(f"/api/v1/attempts/{attempt['id']}/").json()
    assert staff["deadline"] and staff["ends_at"]


def test_within_grace_answers_count_after_it_they_are_refused(synced, learner):
    exam = timed_exam()
    attempt = start(learner, exam.pk)
    overdue(attempt["id"], seconds=-10)  # time is up, but 10 s of grace are left
    late = answer(learner, attempt, "t1", "b", "in-grace")
    assert late["seconds_remaining"] == 0
    overdue(attempt["id"], seconds=1)
    body = assert_problem(
        learner.client.post(
            f"/api/v1/attempts/{attempt['id']}/answers",
            {"client_id": "too-late", "question": "t2", "answer": "b"},
            format="json",
        ),
        409,
    )
    assert "time" in body["detail"] or "submitted" in body["detail"]
    closed = Attempt.objects.get(pk=attempt["id"])
    # Lazily closed by that very request, at the deadline, with the answer given in grace.
    assert closed.status == "submitted" and closed.closed_by == "deadline"
    assert closed.submitted_at == closed.deadline
    assert closed.score == 1 and closed.max_score == 2


def test_reading_an_overdue_attempt_closes_it_at_its_deadline(synced, learner):
    exam = timed_exam()
    attempt = start(learner, exam.pk)
    deadline = overdue(attempt["id"], seconds=5).deadline
    data = learner.client.get(f"/api/v1/attempts/{attempt['id']}/").json()
    assert data["status"] == "submitted" and data["closed_by"] == "deadline"
    assert Attempt.objects.get(pk=attempt["id"]).submitted_at == deadline
    # Idempotent: reading again, sweeping, submitting change nothing and publish one grade.
    learner.client.get(f"/api/v1/attempts/{attempt['id']}/")
    assert attempt_expire_overdue() == 0
    submitted = learner.client.post(f"/api/v1/attempts/{attempt['id']}/submit").json()
    assert submitted["closed_by"] == "deadline"
    assert FeedEntry.objects.filter(kind="exam_result", after__fields__attempt=attempt["id"]).count() == 1


def test_the_sweep_closes_every_overdue_attempt_once(synced, learner, other_learner):
    exam = timed_exam()
    late = start(learner, exam.pk)
    on_time = start(other_learner, exam.pk)
    deadline = overdue(late["id"]).deadline
    assert attempt_expire_overdue() == 1
    assert attempt_expire_overdue() == 0
    closed = Attempt.objects.get(pk=late["id"])
    assert closed.status == "submitted" and closed.submitted_at == deadline and closed.closed_by == "deadline"
    assert Attempt.objects.get(pk=on_time["id"]).status == "in_progress"
    grade = FeedEntry.objects.get(kind="exam_result", after__fields__attempt=late["id"])
    assert grade.priority == "critical" and grade.after["fields"]["closed_by"] == "deadline"


def test_an_exam_cannot_be_started_outside_its_window(synced, learner):
    exam = timed_exam(opens_at=timezone.now() + timedelta(hours=1))
    assert_problem(learner.client.post(f"/api/v1/assessments/{exam.pk}/attempts"), 409, "opens at")
    Assessment.objects.filter(pk=exam.pk).update(opens_at=None, due_at=timezone.now() - timedelta(minutes=1))
    assert_problem(learner.client.post(f"/api/v1/assessments/{exam.pk}/attempts"), 409, "closed at")
