"""Poor connections and impatient thumbs: the same answer twice at once counts once."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from eduvault.learning.assessments.models import Answer, Attempt, Response
from eduvault.learning.assessments.services import attempt_answer, attempt_start
from tests.conftest import COURSE_KEY, small_course
from tests.learning.assessments.conftest import QUADRATICS, choice, load_bank, practice_id, someone

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def at_once(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released together; their results (or exceptions)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected for the assertions
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.fixture
def started():
    from eduvault.pipeline.sync.services import course_sync_blocks

    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    load_bank(QUADRATICS, [choice("c1"), choice("c2")])
    learner = someone("amina").person
    attempt, _ = attempt_start(assessment_id=practice_id(QUADRATICS), person=learner)
    return learner, attempt


@pytest.mark.parametrize("copies", [2, 8])
def test_the_same_answer_sent_at_once_counts_once(started, copies):
    learner, attempt = started
    results = at_once(
        copies,
        lambda i: attempt_answer(
            attempt_id=attempt.pk, person=learner, client_id="tap-tap", question="c1", answer="a"
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(not r.repeated for r in results) == 1
    # Every copy gets the first one's result (JSON objects: key order aside).
    assert all(r.result == results[0].result for r in results)
    assert Answer.objects.filter(attempt=attempt).count() == 1
    response = Response.objects.get(attempt=attempt, question__key="c1")
    assert response.tries == 1 and response.wrong_tries == 1


def test_different_answers_at_once_are_counted_one_after_the_other(started):
    learner, attempt = started
    results = at_once(
        3,
        lambda i: attempt_answer(
            attempt_id=attempt.pk, person=learner, client_id=f"try-{i}", question="c1", answer="a"
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.result["tries"] for r in results) == [1, 2, 3]
    assert Response.objects.get(attempt=attempt, question__key="c1").tries == 3


def test_starting_twice_at_once_gives_one_attempt(started):
    other = someone("chikondi").person
    results = at_once(4, lambda i: attempt_start(assessment_id=practice_id(QUADRATICS), person=other))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r[0].pk for r in results}) == 1
    assert Attempt.objects.filter(learner_id=other.id).count() == 1


def test_answers_racing_the_deadline_are_stored_before_it_or_refused(started):
    """Four learners' worth of answers keep coming while the attempt's deadline passes: each
    is either acknowledged and stored, with a time before the deadline, or refused (time up);
    the attempt is closed once, at its deadline."""
    from datetime import timedelta

    from django.utils import timezone

    from eduvault.kernel.errors import AttemptClosed, TimeUp

    learner, attempt = started
    deadline = timezone.now() + timedelta(seconds=0.6)
    Attempt.objects.filter(pk=attempt.pk).update(ends_at=deadline, deadline=deadline)
    acknowledged, refused = [], []
    lock = threading.Lock()

    def keep_answering(i: int) -> None:
        n = 0
        while timezone.now() < deadline + timedelta(seconds=0.4):
            client_id = f"t{i}-{n}"
            try:
                attempt_answer(
                    attempt_id=attempt.pk, person=learner, client_id=client_id, question=f"c{1 + n % 2}", answer="a"
                )
                with lock:
                    acknowledged.append(client_id)
            except (TimeUp, AttemptClosed):
                with lock:
                    refused.append(client_id)
            n += 1

    results = at_once(4, keep_answering)
    assert not [r for r in results if isinstance(r, Exception)], results
    stored = dict(Answer.objects.filter(attempt=attempt).values_list("client_id", "created_at"))
    assert sorted(stored) == sorted(acknowledged) and acknowledged and refused
    assert max(stored.values()) <= deadline
    closed = Attempt.objects.get(pk=attempt.pk)
    assert closed.status == Attempt.Status.SUBMITTED and closed.submitted_at == deadline
    assert closed.closed_by == Attempt.ClosedBy.DEADLINE
    assert sum(Response.objects.filter(attempt=attempt).values_list("tries", flat=True)) == len(acknowledged)
