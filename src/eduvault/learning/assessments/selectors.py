"""Reading assessments, attempts, results and mastery, shaped for whoever asks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Max, Q, QuerySet
from django.utils import timezone

from eduvault.cores.grading import present, solution
from eduvault.identity.models import Role
from eduvault.identity.tokens import SignedIn
from eduvault.kernel.errors import AssessmentNotFound, PersonNotFound
from eduvault.learning.assessments.models import Assessment, Attempt, Mastery, Question
from eduvault.learning.assessments.services import mastery_rule_for, question_parsed, seconds_left
from eduvault.pipeline.content.models import Course

EXPORT_FORMAT = "eduvault.questions/1"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# -- the question bank ------------------------------------------------------------------------


def questions_list(
    *, course: Course, subtopic: str | None = None, tag: str | None = None
) -> QuerySet[Question]:
    questions = Question.objects.filter(course=course, current=True, archived_at__isnull=True)
    if subtopic:
        questions = questions.filter(subtopic=subtopic)
    rows = questions.order_by("subtopic", "id")
    if tag:
        return rows.filter(pk__in=[q.pk for q in rows if tag in (q.tags or [])])
    return rows


def question_data(question: Question) -> dict[str, Any]:
    return {
        "id": question.key,
        "version": question.version,
        "type": question.type,
        "subtopic": question.subtopic,
        "tags": question.tags,
        "archived": question.archived_at is not None,
        "created_at": _iso(question.created_at),
        "created_by": question.created_by,
        "document": question.document,
    }


def questions_export(*, course: Course, subtopic: str) -> dict[str, Any]:
    """A subtopic's current questions as a document ``questions import`` takes back."""
    return {
        "format": EXPORT_FORMAT,
        "course": course.key,
        "subtopic": subtopic,
        "exported_at": timezone.now().isoformat(),
        "questions": [q.document for q in questions_list(course=course, subtopic=subtopic)],
    }


# -- assessments --------------------------------------------------------------------------------------


def assessments_list(
    *,
    person: SignedIn | None,
    course: str | None = None,
    kind: str | None = None,
    subtopic: str | None = None,
) -> QuerySet[Assessment]:
    assessments = Assessment.objects.select_related("course").order_by("course__key", "kind", "id")
    if person is not None and person.role == Role.LEARNER:
        assessments = assessments.filter(status=Assessment.Status.ACTIVE)
    if course:
        assessments = assessments.filter(course__key=course)
    if kind:
        assessments = assessments.filter(kind=kind)
    if subtopic:
        # JSON containment is not portable (SQLite); a course has tens of assessments.
        assessments = assessments.filter(pk__in=[a.pk for a in assessments if subtopic in a.subtopics])
    return assessments


def assessment_get(*, assessment_id: int) -> Assessment:
    assessment = Assessment.objects.select_related("course").filter(pk=assessment_id).first()
    if assessment is None:
        raise AssessmentNotFound(f"no assessment {assessment_id}")
    return assessment


def _question_counts(assessments: list[Assessment]) -> dict[tuple[int, str], int]:
    """Current questions per (course, subtopic), for these assessments, in one query."""
    rows = (
        Question.objects.filter(
            course_id__in={a.course_id for a in assessments},
            subtopic__in={s for a in assessments for s in a.subtopics},
            current=True,
            archived_at__isnull=True,
        )
        .values_list("course_id", "subtopic")
        .annotate(n=Count("id"))
    )
    return {(course_id, subtopic): n for course_id, subtopic, n in rows}


def assessments_data(assessments: Iterable[Assessment]) -> list[dict[str, Any]]:
    assessments = list(assessments)
    counts = _question_counts(assessments)
    return [assessment_data(a, counts=counts) for a in assessments]


def assessment_data(
    assessment: Assessment, *, counts: dict[tuple[int, str], int] | None = None
) -> dict[str, Any]:
    if counts is None:
        counts = _question_counts([assessment])
    return {
        "id": assessment.pk,
        "course": assessment.course.key,
        "kind": assessment.kind,
        "title": assessment.title,
        "subtopics": assessment.subtopics,
        "status": assessment.status,
        "settings": {
            "attempt_limit": assessment.attempt_limit,
            "passing_threshold": assessment.passing_threshold,
            "questions_per_attempt": assessment.questions_per_attempt,
            "shuffle": assessment.shuffle,
            "feedback": assessment.feedback,
            "max_tries": assessment.max_tries,
            "time_limit_seconds": assessment.time_limit_seconds,
            "grace_seconds": assessment.grace_seconds,
            "opens_at": _iso(assessment.opens_at),
            "due_at": _iso(assessment.due_at),
            "mastery_rule": mastery_rule_for(assessment.mastery_rule).to_spec(),
        },
        "question_count": sum(counts.get((assessment.course_id, s), 0) for s in assessment.subtopics),
        "created_at": _iso(assessment.created_at),
        "archived_at": _iso(assessment.archived_at),
    }


# -- attempts -------------------------------------------------------------------------------------------


def attempt_data(attempt: Attempt, *, person: SignedIn) -> dict[str, Any]:
    """An attempt as ``person`` may see it. While it is open, the learner sees each question
    without its answers (options in the attempt's order), and under immediate feedback how
    each went; once submitted, scores per question. Staff also see the answers given and
    the solutions. Time is given as seconds remaining: the server's clock is the one that
    counts."""
    assessment = attempt.assessment
    now = timezone.now()
    staff = person.role != Role.LEARNER
    open_ = attempt.status == Attempt.Status.IN_PROGRESS
    immediate = assessment.feedback == Assessment.Feedback.IMMEDIATE
    questions = []
    for response in attempt.responses_in_order:
        parsed = question_parsed(response.question)
        item: dict[str, Any] = {
            "position": response.position,
            "question": present(parsed, seed=attempt.seed, shuffle=assessment.shuffle),
            "points": parsed.points,
            "version": response.question.version,
            "answered": response.tries > 0,
        }
        if immediate:
            item["tries"] = response.tries
            item["tries_left"] = max(0, assessment.max_tries - response.tries)
            item["done"] = response.done
        if immediate or not open_:
            item["answer"] = response.answer
            if response.tries:
                item["correct"] = response.correct
                item["score"] = response.score
            item["hints"] = list(parsed.hints[: response.wrong_tries]) if immediate else []
            item["explanation"] = parsed.explanation if (response.done or not open_) else None
        elif response.tries:
            item["answer"] = response.answer
        if staff:
            item["solution"] = solution(parsed)
        questions.append(item)
    data: dict[str, Any] = {
        "id": str(attempt.pk),
        "assessment": {"id": assessment.pk, "title": assessment.title, "kind": assessment.kind},
        "course": assessment.course.key,
        "learner": attempt.learner_id,
        "number": attempt.number,
        "status": attempt.status,
        "feedback": assessment.feedback,
        "started_at": _iso(attempt.started_at),
        "timed": attempt.ends_at is not None,
        "questions": questions,
    }
    if attempt.ends_at is not None and open_:
        data["seconds_remaining"] = seconds_left(attempt.ends_at, now)
    if not open_:
        data.update(
            submitted_at=_iso(attempt.submitted_at),
            closed_by=attempt.closed_by,
            score=attempt.score,
            max_score=attempt.max_score,
            percent=round(100 * (attempt.score or 0) / attempt.max_score, 2) if attempt.max_score else 0.0,
            passed=attempt.passed,
        )
    if staff and attempt.ends_at is not None:
        data.update(ends_at=_iso(attempt.ends_at), deadline=_iso(attempt.deadline))
    return data


def attempt_brief(attempt: Attempt) -> dict[str, Any]:
    return {
        "id": str(attempt.pk),
        "assessment": attempt.assessment_id,
        "learner": attempt.learner_id,
        "number": attempt.number,
        "status": attempt.status,
        "started_at": _iso(attempt.started_at),
        "submitted_at": _iso(attempt.submitted_at),
        "closed_by": attempt.closed_by,
        "score": attempt.score,
        "max_score": attempt.max_score,
        "passed": attempt.passed,
    }


def attempts_list(
    *, person: SignedIn, assessment_id: int | None = None, learner: str | None = None
) -> QuerySet[Attempt]:
    attempts = Attempt.objects.order_by("-started_at")
    if person.role == Role.LEARNER:
        attempts = attempts.filter(learner_id=person.id)
    elif learner:
        attempts = attempts.filter(learner__username=learner)
    if assessment_id is not None:
        attempts = attempts.filter(assessment_id=assessment_id)
    return attempts


def assessment_results(*, assessment: Assessment) -> dict[str, Any]:
    """Per learner: attempts, best and last scores, passed; and the totals."""
    submitted = Attempt.objects.filter(assessment=assessment, status=Attempt.Status.SUBMITTED)
    learners = []
    rows = (
        Attempt.objects.filter(assessment=assessment)
        .values("learner_id", "learner__username")
        .annotate(
            attempts=Count("id"),
            submitted=Count("id", filter=Q(status=Attempt.Status.SUBMITTED)),
            best=Max("score"),
            passed=Count("id", filter=Q(passed=True)),
        )
        .order_by("learner__username")
    )
    last_by_learner = {}
    for attempt in submitted.order_by("learner_id", "-number"):
        last_by_learner.setdefault(attempt.learner_id, attempt)
    for row in rows:
        last = last_by_learner.get(row["learner_id"])
        learners.append(
            {
                "learner": {"id": row["learner_id"], "username": row["learner__username"]},
                "attempts": row["attempts"],
                "submitted": row["submitted"],
                "best_score": row["best"],
                "last": attempt_brief(last) if last else None,
                "passed": row["passed"] > 0,
            }
        )
    totals = submitted.aggregate(
        attempts=Count("id"), mean=Avg("score"), passed=Count("id", filter=Q(passed=True))
    )
    return {
        "assessment": assessment_data(assessment),
        "totals": {
            "learners": len(learners),
            "submitted_attempts": totals["attempts"],
            "mean_score": totals["mean"],
            "pass_rate": (totals["passed"] / totals["attempts"]) if totals["attempts"] else None,
        },
        "learners": learners,
    }


def learner_get(*, username: str) -> Any:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise PersonNotFound(f"no person with username {username!r}")
    return user


def learner_results(*, learner_id: int, course: str | None = None) -> dict[str, Any]:
    attempts = Attempt.objects.select_related("assessment", "assessment__course").filter(
        learner_id=learner_id
    )
    if course:
        attempts = attempts.filter(assessment__course__key=course)
    return {
        "attempts": [
            {**attempt_brief(a), "title": a.assessment.title, "course": a.assessment.course.key}
            for a in attempts.order_by("-started_at")[:500]
        ],
        "mastery": mastery_list(learner_id=learner_id, course=course),
    }


def mastery_list(*, learner_id: int, course: str | None = None) -> list[dict[str, Any]]:
    rows = (
        Mastery.objects.select_related("course")
        .filter(learner_id=learner_id)
        .order_by("course__key", "subtopic")
    )
    if course:
        rows = rows.filter(course__key=course)
    return [
        {
            "course": row.course.key,
            "subtopic": row.subtopic,
            "p_known": round(row.p_known, 6),
            "answers": row.answers,
            "correct": row.correct,
            "mastered": row.mastered,
            "mastered_at": _iso(row.mastered_at),
        }
        for row in rows
    ]
