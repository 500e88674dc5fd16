"""Fill a fresh database with something of everything the API serves, and print the
credentials of every role as JSON: ``python -m tests.fuzz.seed`` (``DATABASE_URL`` set).

Run in a process of its own, against the database the served instance under test uses."""

from __future__ import annotations

import os
import sys

import django
import orjson


def seed() -> dict:
    from eduvault.cores.grading import parse_question, solution
    from eduvault.identity.services import access_token_issue, person_of, token_create, user_create
    from eduvault.integrations.services import source_add
    from eduvault.learning.assessments.demo import QUESTIONS
    from eduvault.learning.assessments.models import Assessment
    from eduvault.learning.assessments.services import (
        attempt_answer,
        attempt_start,
        exam_create,
        questions_import,
    )
    from eduvault.pipeline.content.models import Course
    from eduvault.pipeline.feed.webhooks import subscription_create
    from eduvault.pipeline.inbox.models import InboundEvent
    from eduvault.pipeline.sync.services import course_sync_blocks
    from tests.conftest import COURSE_KEY, small_course

    run = course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    course = Course.objects.get(key=COURSE_KEY)
    practice = Assessment.objects.filter(course=course, kind=Assessment.Kind.PRACTICE).order_by("id").first()
    subtopic = practice.subtopics[0]
    questions_import(course=course, subtopic=subtopic, documents=QUESTIONS, actor="seed")
    exam_create(course=course, title="Exam", subtopics=[subtopic], actor="seed")
    people = {
        role: person_of(user_create(username=f"fuzz-{role}", role=role, password="correct horse battery"))
        for role in ("learner", "instructor", "admin")
    }
    attempt, _ = attempt_start(assessment_id=practice.pk, person=people["learner"])
    first = attempt.responses.select_related("question").order_by("position").first()
    attempt_answer(
        attempt_id=attempt.pk,
        person=people["learner"],
        client_id="seed-1",
        question=first.question.key,
        answer=solution(parse_question(first.question.document)),
    )
    source = source_add(
        platform="openedx",
        name="lms",
        base_url="http://127.0.0.1:9",
        client_id="id",
        client_secret="secret",
        webhook_secret="whsec_" + "A" * 43 + "=",
    )
    event = InboundEvent.objects.create(
        source=source,
        event_id="seed-dead",
        type="org.openedx.content_authoring.course.published.v1",
        priority="background",
        subject="course",
        subject_key=COURSE_KEY,
        payload={},
        received_at=course.created_at,
        next_attempt_at=course.created_at,
        status=InboundEvent.Status.DEAD,
    )
    consumer, consumer_token = token_create(name="fuzz-consumer", role="consumer")
    subscription, _ = subscription_create(name="fuzz-hooks", url="http://127.0.0.1:9/hooks", token=consumer)
    credentials = {
        "admin-token": token_create(name="fuzz-admin", role="admin")[1],
        "consumer-token": consumer_token,
        **{f"{role}-jwt": access_token_issue(person=person) for role, person in people.items()},
    }
    return {
        "credentials": credentials,
        "course": COURSE_KEY,
        "question": QUESTIONS[0]["id"],
        "assessment": practice.pk,
        "attempt": str(attempt.pk),
        "run": run.pk,
        "event": event.pk,
        "subscription": subscription.pk,
        "learner": people["learner"].username,
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eduvault.config.settings")
    os.environ["EDUVAULT_LOG_LEVEL"] = "WARNING"
    os.environ["EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS"] = "127.0.0.1"
    django.setup()
    sys.stdout.write(orjson.dumps(seed()).decode() + "\n")
