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


def test_a_server_killed_mid_answers_loses_no_acknowledged_answer_and_retries_count_once(request):
    """Learners answer through `eduvault serve` (the lean route) when the server is killed
    (SIGKILL, mid-commit for some): every acknowledged answer is stored; the unacknowledged
    ones, sent again with their client ids once a server is back, are each stored once."""
    import threading

    import httpx

    from eduvault.identity.services import access_token_issue
    from eduvault.learning.assessments.models import Answer, Response

    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    load_bank(QUADRATICS, [choice(f"k{i}") for i in range(4)])
    exam = exam_create(
        course=Course.objects.get(key=COURSE_KEY), title="Exam", subtopics=[QUADRATICS], actor="test"
    )
    sessions = []
    for i in range(12):
        person = someone(f"learner{i}").person
        attempt, _ = attempt_start(assessment_id=exam.pk, person=person)
        sessions.append((str(attempt.pk), access_token_issue(person=person)))
    stack = Stack("")
    request.addfinalizer(stack.stop)
    url = stack.serve()
    sent: dict[str, tuple[str, str, dict]] = {}  # client id -> (attempt, token, body)
    acknowledged: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def learner(n: int) -> None:
        attempt, token = sessions[n]
        with httpx.Client(base_url=url, timeout=5, headers={"Authorization": f"Bearer {token}"}) as client:
            i = 0
            while not stop.is_set():
                body = {"client_id": f"s{n}-{i}", "question": f"k{i % 4}", "answer": "ab"[i % 2]}
                with lock:
                    sent[body["client_id"]] = (attempt, token, body)
                try:
                    response = client.post(f"/api/v1/attempts/{attempt}/answers", json=body)
                except httpx.TransportError:
                    time.sleep(0.05)
                else:
                    assert response.status_code in (200, 201), response.text
                    with lock:
                        acknowledged.add(body["client_id"])
                i += 1

    threads = [threading.Thread(target=learner, args=(n,)) for n in range(len(sessions))]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(acknowledged) >= 150, 30, what="answers flowing")
    stack.kill(stack.server_process())
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert acknowledged and set(sent) - acknowledged, "the kill caught some answers unacknowledged"
    stored = set(Answer.objects.values_list("client_id", flat=True))
    assert acknowledged <= stored  # nothing acknowledged was lost

    stack.serve(port=stack.port)
    with httpx.Client(base_url=url, timeout=10) as client:
        for client_id in sorted(set(sent) - acknowledged):
            attempt, token, body = sent[client_id]
            response = client.post(
                f"/api/v1/attempts/{attempt}/answers", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code in (200, 201), response.text  # 200: it had been committed
    rows = list(Answer.objects.values_list("client_id", "answer"))
    assert sorted(c for c, _ in rows) == sorted(sent)  # each once
    assert all(answer == sent[client_id][2]["answer"] for client_id, answer in rows)
    assert sum(Response.objects.values_list("tries", flat=True)) == len(rows)
