"""Attempts and answers arriving from another replica, applied in the chunk's transaction.

They are append-only: an attempt keeps the id the replica that started it made, an answer its
attempt and client id, so nothing a learner did is lost or counted twice however often a
chunk arrives. What derives from answers is derived again here rather than trusted: each
question's standing in its attempt (tries, the answer that counts), the numbering of a
learner's attempts (by when they began, the same on every replica), and on the server the
learner's mastery (traced again over all their answers in time order) and the grade of an
attempt submitted on a device (a record of the hub, as if submitted here).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max

from eduvault.kernel.errors import InvalidInput
from eduvault.learning.assessments.models import Answer, Assessment, Attempt, Question, Response
from eduvault.learning.assessments.services import attempt_grade_publish, mastery_retrace
from eduvault.learning.devices.kinds import Arrival, _parse_time


def _questions(keys: set[str]) -> dict[str, Question]:
    """Questions by natural key ``course|key|version``."""
    out: dict[str, Question] = {}
    by_course: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for key in keys:
        try:
            course, qkey, version = key.rsplit("|", 2)
            by_course[course].append((qkey, int(version)))
        except ValueError:
            raise InvalidInput(f"question: {key!r} is not course|key|version") from None
    for course, pairs in by_course.items():
        wanted = {qkey for qkey, _ in pairs}
        for q in Question.objects.filter(course__key=course, key__in=wanted).select_related("course"):
            out[f"{course}|{q.key}|{q.version}"] = q
    missing = keys - out.keys()
    if missing:
        raise InvalidInput(f"question: no question {sorted(missing)[0]!r} here")
    return out


def _clock_flags(payload: dict[str, Any], context: Arrival) -> list[str]:
    """What the server's clock says about a timed attempt a device ran."""
    flags = set(payload.get("flags") or [])
    if not context.server or not payload.get("deadline"):
        return sorted(flags)
    tolerance = settings.EDUVAULT_DEVICE_CLOCK_TOLERANCE_SECONDS
    if context.clock_skew is not None and abs(context.clock_skew) > tolerance:
        flags.add(f"clock: the device's clock was {context.clock_skew:+.0f} s off the server's when it synced")
    deadline = _parse_time(payload["deadline"], "deadline")
    submitted = _parse_time(payload.get("submitted_at"), "submitted_at")
    if submitted is not None and deadline is not None and submitted > deadline:
        flags.add("clock: submitted after its deadline by the device's own clock")
    return sorted(flags)


def attempts_apply(payloads: list[dict[str, Any]], context: Arrival) -> None:
    users = dict(
        get_user_model().objects.filter(username__in={p["learner"] for p in payloads}).values_list("username", "pk")
    )
    assessments = {
        a.pk: a
        for a in Assessment.objects.select_related("course").filter(pk__in={p["assessment"] for p in payloads})
    }
    questions = _questions({k for p in payloads for k in p["questions"]})
    renumber: set[tuple[int, int]] = set()
    submitted: list[Attempt] = []
    for p in payloads:
        assessment = assessments.get(p["assessment"])
        if assessment is None or assessment.course.key != p["course"]:
            raise InvalidInput(f"attempt {p['id']}: no assessment {p['assessment']} in course {p['course']!r}")
        learner_id = users.get(p["learner"])
        if learner_id is None:
            raise InvalidInput(f"attempt {p['id']}: no learner {p['learner']!r}")
        values = {
            "status": p["status"],
            "ends_at": _parse_time(p["ends_at"], "ends_at"),
            "deadline": _parse_time(p["deadline"], "deadline"),
            "submitted_at": _parse_time(p["submitted_at"], "submitted_at"),
            "closed_by": p["closed_by"],
            "score": p["score"],
            "max_score": p["max_score"],
            "passed": p["passed"],
            "flags": _clock_flags(p, context),
        }
        attempt = Attempt.objects.filter(pk=p["id"]).first()
        was_submitted = attempt is not None and attempt.status == Attempt.Status.SUBMITTED
        if attempt is None:
            if p["status"] == Attempt.Status.IN_PROGRESS:
                _supersede_open(assessment=assessment, learner_id=learner_id, started_at=p["started_at"])
            attempt = Attempt.objects.create(
                id=p["id"],
                assessment=assessment,
                learner_id=learner_id,
                # Next after the learner's others (renumbered below only if it began before one).
                number=(
                    Attempt.objects.filter(assessment=assessment, learner_id=learner_id).aggregate(n=Max("number"))["n"]
                    or 0
                )
                + 1,
                seed=p["seed"],
                started_at=_parse_time(p["started_at"], "started_at"),
                origin=p["origin"],
                **values,
            )
            Response.objects.bulk_create(
                Response(attempt=attempt, question=questions[key], position=i) for i, key in enumerate(p["questions"])
            )
            renumber.add((assessment.pk, learner_id))
        else:
            if attempt.assessment_id != assessment.pk or attempt.learner_id != learner_id:
                raise InvalidInput(f"attempt {p['id']}: it belongs to another assessment or learner here")
            for name, value in values.items():
                setattr(attempt, name, value)
            attempt.save(update_fields=list(values))
        if context.server and not was_submitted and attempt.status == Attempt.Status.SUBMITTED:
            submitted.append(attempt)
    for assessment_id, learner_id in sorted(renumber):
        _renumber(assessment_id=assessment_id, learner_id=learner_id)
    finals: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for attempt in submitted:
        attempt.refresh_from_db()
        attempt_grade_publish(attempt=attempt, at=attempt.submitted_at or attempt.started_at)
        if attempt.assessment.feedback == Assessment.Feedback.ON_SUBMIT:
            # An exam's answers count for mastery when it is submitted (practice answers
            # count as they come, traced with the answers).
            finals[(attempt.learner_id, attempt.assessment.course_id)].append(attempt.pk)
    for (learner_id, course_id), attempt_ids in sorted(finals.items()):
        subtopics = set(
            Response.objects.filter(attempt_id__in=attempt_ids).values_list("question__subtopic", flat=True)
        )
        mastery_retrace(learner_id=learner_id, course_id=course_id, subtopics=subtopics)


def _supersede_open(*, assessment: Assessment, learner_id: int, started_at: str) -> None:
    """A learner may have one open attempt per assessment: one opened on another replica
    meanwhile closes the one here (as a learner's submission at the other's start)."""
    from eduvault.learning.assessments.services import attempt_close

    at = _parse_time(started_at, "started_at")
    for open_attempt in Attempt.objects.select_for_update().filter(
        assessment=assessment, learner_id=learner_id, status=Attempt.Status.IN_PROGRESS
    ):
        attempt_close(attempt=open_attempt, at=max(at, open_attempt.started_at), closed_by=Attempt.ClosedBy.LEARNER)


def _renumber(*, assessment_id: int, learner_id: int) -> None:
    """A learner's attempts at an assessment numbered 1, 2, … by when they began (then id):
    the same numbers on every replica that holds the same attempts."""
    rows = list(
        Attempt.objects.filter(assessment_id=assessment_id, learner_id=learner_id)
        .order_by("started_at", "id")
        .values_list("pk", "number")
    )
    if all(number == i + 1 for i, (_, number) in enumerate(rows)):
        return
    for i, (pk, _) in enumerate(rows):
        Attempt.objects.filter(pk=pk).update(number=2_000_000 + i)
    for i, (pk, _) in enumerate(rows):
        Attempt.objects.filter(pk=pk).update(number=i + 1)


def answers_apply(payloads: list[dict[str, Any]], context: Arrival) -> None:
    attempts = {
        str(a.pk): a
        for a in Attempt.objects.select_related("assessment__course", "learner").filter(
            pk__in={p["attempt"] for p in payloads}
        )
    }
    questions = _questions({p["question"] for p in payloads})
    existing = set(
        Answer.objects.filter(attempt_id__in=list(attempts)).values_list("attempt_id", "client_id")
    )
    existing = {(str(a), c) for a, c in existing}
    new: list[Answer] = []
    touched: set[tuple[Any, int]] = set()
    for p in payloads:
        attempt = attempts.get(p["attempt"])
        if attempt is None:
            raise InvalidInput(f"answer {p['client_id']!r}: its attempt {p['attempt']} has not arrived")
        if attempt.learner.username != p["learner"] or attempt.assessment.course.key != p["course"]:
            raise InvalidInput(f"answer {p['client_id']!r}: its attempt is another learner's or course's")
        if (p["attempt"], p["client_id"]) in existing:
            continue
        question = questions[p["question"]]
        at: datetime | None = _parse_time(p["created_at"], "created_at")
        new.append(
            Answer(
                attempt=attempt,
                client_id=p["client_id"],
                question=question,
                try_number=p["try_number"],
                answer=p["answer"],
                score=p["score"],
                raw_score=p["raw_score"],
                correct=p["correct"],
                result=p["result"],
                created_at=at,
            )
        )
        existing.add((p["attempt"], p["client_id"]))
        touched.add((attempt.pk, question.pk))
    Answer.objects.bulk_create(new, batch_size=1000)
    _responses_derive(touched, attempts)
    if context.server and new:
        traced: dict[tuple[int, int], set[str]] = defaultdict(set)
        subtopic = {q.pk: q.subtopic for q in questions.values()}
        for attempt_pk, question_pk in touched:
            attempt = attempts[str(attempt_pk)]
            traced[(attempt.learner_id, attempt.assessment.course_id)].add(subtopic[question_pk])
        for (learner_id, course_id), subtopics in sorted(traced.items()):
            mastery_retrace(learner_id=learner_id, course_id=course_id, subtopics=subtopics)


def _responses_derive(touched: set[tuple[Any, int]], attempts: dict[str, Attempt]) -> None:
    """Each touched question's standing in its attempt, from all its answers in order."""
    if not touched:
        return
    by_attempt: dict[Any, set[int]] = defaultdict(set)
    for attempt_pk, question_pk in touched:
        by_attempt[attempt_pk].add(question_pk)
    answers: dict[tuple[Any, int], list[Answer]] = defaultdict(list)
    for answer in Answer.objects.filter(attempt_id__in=list(by_attempt)).order_by("created_at", "id"):
        if answer.question_id in by_attempt[answer.attempt_id]:
            answers[(answer.attempt_id, answer.question_id)].append(answer)
    responses = Response.objects.filter(attempt_id__in=list(by_attempt))
    changed = []
    for response in responses:
        given = answers.get((response.attempt_id, response.question_id))
        if not given:
            continue
        attempt = attempts[str(response.attempt_id)]
        immediate = attempt.assessment.feedback == Assessment.Feedback.IMMEDIATE
        last = given[-1]
        response.tries = len(given)
        response.wrong_tries = sum(1 for a in given if not a.correct) if immediate else 0
        response.answer = last.answer
        response.score = last.score
        response.correct = last.correct
        response.done = immediate and (last.correct or response.tries >= attempt.assessment.max_tries)
        changed.append(response)
    # One UPDATE a row: on SQLite several times faster than bulk_update's CASE per column.
    for response in changed:
        Response.objects.filter(pk=response.pk).update(
            tries=response.tries,
            wrong_tries=response.wrong_tries,
            answer=response.answer,
            score=response.score,
            correct=response.correct,
            done=response.done,
        )

