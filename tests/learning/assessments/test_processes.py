"""Timed exams on real processes: every worker down at the deadline, the attempt is still
submitted at its deadline once one starts again; no broker countdown involved."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from eduvault.learning.assessments.models import Attempt
from eduvault.learning.assessments.services import attempt_answer, attempt_start, exam_create
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.sync.services import course_sync_blocks
from tests.conftest import COURSE_KEY, small_course
from tests.learning.assessments.conftest import QUADRATICS, choice, load_bank, someone
from tests.pipeline.inbox.test_brokers import wait_for
from tests.services import REDIS_URL, require
from tests.stack import Stack

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_an_attempt_is_submitted_at_its_deadline_though_the_worker_was_down(request):
    require(REDIS_URL, "Redis")
    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    load_bank(QUADRATICS, [choice("w1"), choice("w2")])
    exam = exam_create(
        course=Course.objects.get(key=COURSE_KEY),
        title="Two-second exam",
        subtopics=[QUADRATICS],
        actor="test",
        time_limit_seconds=3,
        grace_seconds=0,
    )
    learner = someone("amina").person
    stack = Stack(REDIS_URL, EDUVAULT_EXAM_SWEEP_SECONDS="0.5")
    request.addfinalizer(stack.stop)
    worker = stack.worker()
    attempt, _ = attempt_start(assessment_id=exam.pk, person=learner)
    attempt_answer(attempt_id=attempt.pk, person=learner, client_id="a1", question="w1", answer="b")
    time.sleep(1)  # the worker is up and sweeping
    stack.kill(worker)

    wait_for(
        lambda: timezone.now() > attempt.deadline + timezone.timedelta(seconds=1), 10, what="the deadline"
    )
    # Nobody closed it: no worker ran, and nothing read it.
    assert Attempt.objects.get(pk=attempt.pk).status == "in_progress"

    stack.worker()
    wait_for(
        lambda: Attempt.objects.filter(pk=attempt.pk, status="submitted").exists(),
        30,
        stack,
        "the restarted worker to close the attempt",
    )
    closed = Attempt.objects.get(pk=attempt.pk)
    assert closed.closed_by == "deadline" and closed.submitted_at == closed.deadline == attempt.deadline
    assert closed.score == 1 and closed.max_score == 2
    assert FeedEntry.objects.filter(kind="exam_result", after__fields__attempt=str(attempt.pk)).count() == 1
