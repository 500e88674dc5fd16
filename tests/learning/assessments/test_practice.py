"""Practice assessments follow the course's subtopics through syncs and rollbacks."""

from __future__ import annotations

import pytest

from eduvault.learning.assessments.models import Assessment, Attempt
from eduvault.learning.assessments.services import attempt_start
from eduvault.pipeline.sync.services import course_rollback, course_sync_blocks
from tests.conftest import COURSE_KEY, small_course
from tests.learning.assessments.conftest import (
    ALGEBRA_TEST,
    CIRCLES,
    QUADRATICS,
    choice,
    load_bank,
    practice_id,
)

pytestmark = pytest.mark.django_db


def practice() -> dict[str, tuple[str, str]]:
    return {
        a.subtopic: (a.title, a.status)
        for a in Assessment.objects.filter(kind="practice").order_by("subtopic")
    }


def test_every_synced_subtopic_gets_a_practice_assessment_that_follows_it(learner):
    sim = small_course()
    course_sync_blocks(course_key=COURSE_KEY, blocks=sim.blocks_response())
    assert practice() == {
        QUADRATICS: ("Quadratics", "active"),
        ALGEBRA_TEST: ("Algebra test", "active"),
        CIRCLES: ("Circles", "active"),
    }
    load_bank(QUADRATICS, [choice("p1")])
    attempt, _ = attempt_start(assessment_id=practice_id(QUADRATICS), person=learner.person)

    sim.rename(QUADRATICS, "Quadratic equations")
    new = sim.add(sim.usage_key("chapter", "geometry"), "sequential", "Triangles", block_id="triangles")
    course_sync_blocks(course_key=COURSE_KEY, blocks=sim.blocks_response())
    assert practice()[QUADRATICS] == ("Quadratic equations", "active")
    assert practice()[new] == ("Triangles", "active")

    # Deleting a topic deletes its subtopics with it: their practice is archived, attempts kept.
    sim.delete(sim.usage_key("chapter", "algebra"))
    run = course_sync_blocks(course_key=COURSE_KEY, blocks=sim.blocks_response())
    assert run.deletes == 1
    assert practice()[QUADRATICS][1] == "archived" and practice()[ALGEBRA_TEST][1] == "archived"
    assert practice()[CIRCLES][1] == "active"
    assert Attempt.objects.filter(pk=attempt.pk).exists()
    listed = learner.client.get("/api/v1/assessments/", {"course": COURSE_KEY}).json()["results"]
    assert QUADRATICS not in [a["subtopics"][0] for a in listed]

    # A rollback brings the subtopics back, and their practice with them (the same ones).
    course_rollback(course_key=COURSE_KEY, to_version=2)
    assert practice()[QUADRATICS] == ("Quadratic equations", "active")
    assert practice_id(QUADRATICS) == attempt.assessment_id
    assert Assessment.objects.filter(kind="practice").count() == 4


def test_a_failing_subscriber_fails_the_whole_sync(monkeypatch):
    from eduvault.learning.assessments import subscriptions

    def broken(**_):
        raise RuntimeError("assessments are down")

    monkeypatch.setattr(subscriptions, "practice_assessments_follow", broken)
    with pytest.raises(RuntimeError):
        course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    from eduvault.pipeline.content.models import Course

    assert not Course.objects.filter(key=COURSE_KEY, version__gt=0).exists()
    assert not Assessment.objects.exists()
