"""Assessments: the question bank, exams, attempts, grading and mastery.

Locks: an answer or a submission locks its attempt row (``select_for_update``) for its whole
transaction, so one attempt's answers are counted one at a time, in order; mastery rows are
locked after the attempt, in subtopic order; learner records and the feed counter last (by
``record_local_change``).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
import structlog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from eduvault.cores.grading import Question as ParsedQuestion
from eduvault.cores.grading import draw, grade_try, parse_question, reveal
from eduvault.cores.mastery import DEFAULT_PARAMS, BktParams, fit_parameters, rule_from_spec, trace, update
from eduvault.identity.models import Person, Role
from eduvault.identity.people import person_for_user_id
from eduvault.identity.tokens import SignedIn
from eduvault.integrations.services import source_get
from eduvault.kernel import bulk
from eduvault.kernel.errors import (
    AssessmentNotFound,
    AssessmentUnavailable,
    AttemptClosed,
    AttemptNotFound,
    Conflict,
    InvalidInput,
    InvalidQuestion,
    PermissionDenied,
    PersonNotFound,
    QuestionNotFound,
    TimeUp,
)
from eduvault.learning.assessments import answering
from eduvault.learning.assessments.answering import Locked, Prior
from eduvault.learning.assessments.models import (
    Answer,
    Assessment,
    Attempt,
    ExtraTime,
    Mastery,
    Question,
    Response,
    SkillParameters,
)
from eduvault.pipeline.content.models import Course, Node
from eduvault.pipeline.records.enrollments import enrollment_ensure
from eduvault.pipeline.records.links import object_link_remove, object_link_set
from eduvault.pipeline.records.models import ObjectLink
from eduvault.pipeline.records.services import LocalChange, record_local_changes

log = structlog.get_logger(__name__)

SUBTOPIC = "subtopic"
#: Outcomes kept per learner and subtopic for the m-of-n and streak rules.
RECENT_KEEP = 100
#: Most questions one import takes.
MAX_IMPORT = 2000


# -- the question bank -------------------------------------------------------------------------

_parsed_cache: dict[bytes, ParsedQuestion] = {}


def question_parsed(question: Question) -> ParsedQuestion:
    """The validated form of a stored question version (see :func:`document_parsed`)."""
    return document_parsed(question.document)


def document_parsed(document: Any) -> ParsedQuestion:
    """The validated form of a stored question document, kept by its content (a row id alone
    could name another document after a rolled-back transaction)."""
    key = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    parsed = _parsed_cache.get(key)
    if parsed is None:
        if len(_parsed_cache) > 20_000:
            _parsed_cache.clear()
        parsed = _parsed_cache[key] = parse_question(document)
    return parsed


def _check_subtopics(course: Course, subtopics: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(s for s in subtopics if s))
    if not wanted:
        raise InvalidInput("subtopics: name at least one subtopic (its external id)")
    found = set(
        Node.objects.filter(course=course, kind=SUBTOPIC, external_id__in=wanted).values_list(
            "external_id", flat=True
        )
    )
    missing = [s for s in wanted if s not in found]
    if missing:
        raise InvalidInput(f"subtopics: {course.key} has no subtopic {missing[0]!r}" + _more(missing))
    return wanted


def _more(items: Sequence[Any]) -> str:
    return f" (and {len(items) - 1} more)" if len(items) > 1 else ""


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: One entry per invalid question: its index in the input, its id (if any) and why.
    invalid: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "invalid": self.invalid,
            "ids": {"created": self.created, "updated": self.updated, "unchanged": self.unchanged},
        }


def _new_key() -> str:
    return "q-" + secrets.token_hex(6)


def _store(*, course: Course, subtopic: str, parsed: ParsedQuestion, actor: str) -> tuple[Question, str]:
    """Write one parsed question (in the caller's transaction): a new question, a new version
    of an existing one, or nothing if it is unchanged."""
    if parsed.id is None:
        parsed = parsed.with_id(_new_key())
    assert parsed.id is not None
    existing = Question.objects.select_for_update().filter(course=course, key=parsed.id, current=True).first()
    if existing is not None:
        if (
            existing.document == parsed.document
            and existing.subtopic == subtopic
            and existing.archived_at is None
        ):
            return existing, "unchanged"
        Question.objects.filter(pk=existing.pk).update(current=False)
    question = Question.objects.create(
        course=course,
        subtopic=subtopic,
        key=parsed.id,
        version=existing.version + 1 if existing else 1,
        type=parsed.type,
        document=parsed.document,
        tags=list(parsed.tags),
        created_by=actor,
    )
    return question, "updated" if existing else "created"


@transaction.atomic
def question_save(
    *, course: Course, subtopic: str, document: Any, actor: str, key: str | None = None
) -> tuple[Question, str]:
    """Add a question to a subtopic's bank, or a new version of it (``key``: the question
    being edited; a document id, if given, must agree). Returns it and what happened."""
    _check_subtopics(course, [subtopic])
    parsed = parse_question(document)
    if key is not None:
        if parsed.id is not None and parsed.id != key:
            raise InvalidInput(f"id: the document's id {parsed.id!r} is not the question's id {key!r}")
        if not Question.objects.filter(course=course, key=key, current=True).exists():
            raise QuestionNotFound(f"{course.key} has no question {key!r}")
        parsed = parsed.with_id(key)
    question, outcome = _store(course=course, subtopic=subtopic, parsed=parsed, actor=actor)
    log.info(
        "question.saved", course=course.key, question=question.key, version=question.version, outcome=outcome
    )
    return question, outcome


def questions_import(
    *, course: Course, subtopic: str, documents: Any, partial: bool = False, actor: str
) -> ImportReport:
    """Import a subtopic's questions. Every question is checked first; if any is invalid,
    nothing is imported unless ``partial`` (then the valid ones are, and the report lists
    each invalid one with its reason)."""
    if isinstance(documents, dict) and "questions" in documents:
        documents = documents["questions"]
    if not isinstance(documents, list):
        raise InvalidInput("questions: expected a list of question documents")
    if len(documents) > MAX_IMPORT:
        raise InvalidInput(f"questions: at most {MAX_IMPORT} questions per import, got {len(documents)}")
    _check_subtopics(course, [subtopic])
    report = ImportReport()
    valid: list[ParsedQuestion] = []
    seen: dict[str, int] = {}
    for index, document in enumerate(documents):
        given = document.get("id") if isinstance(document, dict) else None
        try:
            parsed = parse_question(document)
        except InvalidQuestion as exc:
            report.invalid.append({"index": index, "id": given, "problems": exc.problems})
            continue
        if parsed.id is not None:
            if parsed.id in seen:
                report.invalid.append(
                    {
                        "index": index,
                        "id": parsed.id,
                        "problems": [f"id: also used by questions[{seen[parsed.id]}]"],
                    }
                )
                continue
            seen[parsed.id] = index
        valid.append(parsed)
    if report.invalid and not partial:
        problems = [
            f"questions[{bad['index']}]" + (f" ({bad['id']})" if bad["id"] else "") + f": {problem}"
            for bad in report.invalid
            for problem in bad["problems"]
        ]
        log.info(
            "questions.import_refused", course=course.key, subtopic=subtopic, invalid=len(report.invalid)
        )
        raise InvalidQuestion(problems, invalid=report.invalid)
    with transaction.atomic():
        for parsed in valid:
            question, outcome = _store(course=course, subtopic=subtopic, parsed=parsed, actor=actor)
            getattr(report, outcome).append(question.key)
    log.info(
        "questions.imported",
        course=course.key,
        subtopic=subtopic,
        created=len(report.created),
        updated=len(report.updated),
        unchanged=len(report.unchanged),
        invalid=len(report.invalid),
    )
    return report


@transaction.atomic
def question_archive(*, course: Course, key: str, actor: str) -> Question:
    """Take a question out of the bank (attempts that used it keep it)."""
    question = Question.objects.select_for_update().filter(course=course, key=key, current=True).first()
    if question is None:
        raise QuestionNotFound(f"{course.key} has no question {key!r}")
    if question.archived_at is None:
        question.archived_at = timezone.now()
        question.save(update_fields=["archived_at"])
        log.info("question.archived", course=course.key, question=key, actor=actor)
    return question


# -- assessments --------------------------------------------------------------------------------

#: Settings an instructor may set, with their checks.
_SETTINGS = (
    "attempt_limit",
    "passing_threshold",
    "questions_per_attempt",
    "shuffle",
    "feedback",
    "max_tries",
    "time_limit_seconds",
    "grace_seconds",
    "opens_at",
    "due_at",
    "mastery_rule",
    "title",
)


def _check_settings(values: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(_SETTINGS))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not a setting; settings are {', '.join(_SETTINGS)}")
    out = dict(values)
    threshold = out.get("passing_threshold")
    if threshold is not None and not (0 <= threshold <= 1):
        raise InvalidInput("passing_threshold: a fraction of the points, between 0 and 1")
    for name in ("attempt_limit", "questions_per_attempt", "max_tries", "time_limit_seconds"):
        if out.get(name) is not None and out[name] < 1:
            raise InvalidInput(f"{name}: must be at least 1 (or null for no limit)")
    if "max_tries" in out and out["max_tries"] is None:
        raise InvalidInput("max_tries: must be at least 1")
    if out.get("grace_seconds") is not None and out["grace_seconds"] < 0:
        raise InvalidInput("grace_seconds: must not be negative")
    if "feedback" in out and out["feedback"] not in Assessment.Feedback.values:
        raise InvalidInput(f"feedback: one of {', '.join(Assessment.Feedback.values)}")
    if out.get("opens_at") and out.get("due_at") and out["opens_at"] >= out["due_at"]:
        raise InvalidInput("due_at: must be after opens_at")
    if "mastery_rule" in out and out["mastery_rule"] is not None:
        out["mastery_rule"] = rule_from_spec(out["mastery_rule"]).to_spec()
    if "title" in out and not (out["title"] or "").strip():
        raise InvalidInput("title: an assessment needs a title")
    return out


@transaction.atomic
def exam_create(
    *, course: Course, title: str, subtopics: list[str], actor: str, **settings_: Any
) -> Assessment:
    """An exam over one or more subtopics; on-submit feedback, one try per question unless set."""
    subtopics = _check_subtopics(course, subtopics)
    values = _check_settings({"title": title, **settings_})
    values.setdefault("feedback", Assessment.Feedback.ON_SUBMIT)
    values.setdefault("max_tries", 1)
    values.setdefault("attempt_limit", 1)
    exam = Assessment.objects.create(
        course=course, kind=Assessment.Kind.EXAM, subtopics=subtopics, created_by=actor, **values
    )
    log.info("exam.created", course=course.key, assessment_id=exam.pk, subtopics=len(subtopics), actor=actor)
    return exam


@transaction.atomic
def assessment_update(
    *, assessment_id: int, actor: str, subtopics: list[str] | None = None, **values: Any
) -> Assessment:
    """Change an assessment's settings; attempts already started keep theirs."""
    assessment = (
        Assessment.objects.select_for_update().select_related("course").filter(pk=assessment_id).first()
    )
    if assessment is None:
        raise AssessmentNotFound(f"no assessment {assessment_id}")
    checked = _check_settings(values)
    if subtopics is not None:
        if assessment.kind == Assessment.Kind.PRACTICE:
            raise InvalidInput("subtopics: a practice assessment belongs to its subtopic")
        assessment.subtopics = _check_subtopics(assessment.course, subtopics)
    for name, value in checked.items():
        setattr(assessment, name, value)
    if assessment.opens_at and assessment.due_at and assessment.opens_at >= assessment.due_at:
        raise InvalidInput("due_at: must be after opens_at")
    assessment.save()
    log.info("assessment.updated", assessment_id=assessment.pk, fields=sorted(checked), actor=actor)
    return assessment


def _person_user(username: str) -> Any:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise PersonNotFound(f"no person with username {username!r}")
    return user


@transaction.atomic
def extra_time_grant(*, assessment_id: int, learner: str, seconds: int, actor: str) -> ExtraTime:
    """Give one learner extra time on a timed assessment (for attempts they start after)."""
    if seconds < 0 or seconds > 7 * 86400:
        raise InvalidInput("seconds: between 0 and a week")
    if not Assessment.objects.filter(pk=assessment_id).exists():
        raise AssessmentNotFound(f"no assessment {assessment_id}")
    user = _person_user(learner)
    grant, _ = ExtraTime.objects.update_or_create(
        assessment_id=assessment_id, learner=user, defaults={"seconds": seconds, "granted_by": actor}
    )
    log.info(
        "extra_time.granted", assessment_id=assessment_id, learner_id=user.pk, seconds=seconds, actor=actor
    )
    return grant


def practice_assessments_follow(
    *, course: Course, created: dict[str, str], renamed: dict[str, str], deleted: set[str]
) -> None:
    """Keep one practice assessment per subtopic (called inside a sync's transaction):
    created subtopics get one (or get their archived one back), renamed ones rename theirs,
    deleted ones archive theirs, attempts kept. At most three statements, whatever the
    number of subtopics."""
    now = timezone.now()
    wanted = set(created) | set(renamed) | deleted
    existing = {
        a.subtopic: a
        for a in Assessment.objects.filter(
            course=course, kind=Assessment.Kind.PRACTICE, subtopic__in=list(wanted)
        )
    }
    new = [
        Assessment(
            course=course,
            kind=Assessment.Kind.PRACTICE,
            title=(title or subtopic)[:500],
            subtopic=subtopic,
            subtopics=[subtopic],
            feedback=Assessment.Feedback.IMMEDIATE,
            created_by="sync",
        )
        for subtopic, title in created.items()
        if subtopic not in existing
    ]
    changed = []
    for subtopic, assessment in existing.items():
        if subtopic in created or subtopic in renamed:
            title = (created.get(subtopic) or renamed.get(subtopic) or subtopic)[:500]
            if subtopic in created:
                assessment.status, assessment.archived_at = Assessment.Status.ACTIVE, None
            assessment.title = title
        elif assessment.status == Assessment.Status.ACTIVE:
            assessment.status, assessment.archived_at = Assessment.Status.ARCHIVED, now
        else:
            continue
        assessment.updated_at = now
        changed.append(assessment)
    if new:
        Assessment.objects.bulk_create(new)
    if changed:
        Assessment.objects.bulk_update(changed, ["status", "archived_at", "title", "updated_at"])
    log.info(
        "practice.followed",
        course=course.key,
        created=len(new),
        changed=len(changed),
        renamed=len(renamed),
        deleted=len(deleted),
    )


# -- attempts -------------------------------------------------------------------------------------


def attempt_pk(attempt_id: Any) -> uuid.UUID:
    """An attempt id as given by a client (a UUID, in any of its usual spellings)."""
    if isinstance(attempt_id, uuid.UUID):
        return attempt_id
    try:
        return uuid.UUID(str(attempt_id))
    except ValueError:
        raise AttemptNotFound(f"no attempt {str(attempt_id)[:100]!r}") from None


def _load_attempt(attempt_id: Any, *, lock: bool, course: bool) -> Attempt:
    attempts = Attempt.objects.select_related("assessment", *(["assessment__course"] if course else []))
    if lock:
        attempts = attempts.select_for_update(of=("self",))
    attempt = next(iter(attempts.filter(pk=attempt_pk(attempt_id)).order_by()[:1]), None)
    if attempt is None:
        raise AttemptNotFound(f"no attempt {attempt_id}")
    return attempt


def attempt_access(*, attempt_id: Any, person: SignedIn, lock: bool = False, course: bool = True) -> Attempt:
    """The attempt, if this person may see it: their own, or any for staff (a learner is told
    another's attempt does not exist). ``course=False`` leaves the course unloaded."""
    attempt = _load_attempt(attempt_id, lock=lock, course=course)
    if attempt.learner_id != person.id and person.role == Role.LEARNER:
        raise AttemptNotFound(f"no attempt {attempt_id}")
    return attempt


def attempt_read(*, attempt_id: Any, person: SignedIn) -> Attempt:
    """The attempt for reading, closed first if its deadline has passed (lazy expiry)."""
    _expire_if_overdue(attempt_id)
    return attempt_access(attempt_id=attempt_id, person=person)


@transaction.atomic
def attempt_start(*, assessment_id: int, person: SignedIn) -> tuple[Attempt, bool]:
    """Start an attempt, or give back the one already open (resuming). Returns the attempt
    and whether it is new."""
    assessment = Assessment.objects.select_related("course").filter(pk=assessment_id).first()
    if assessment is None:
        raise AssessmentNotFound(f"no assessment {assessment_id}")
    # The learner's attempts at it, in one read: one past its deadline is closed first (lazy
    # expiry), an open one resumed, the others counted.
    mine = Attempt.objects.filter(assessment=assessment, learner_id=person.id).values_list(
        "pk", "status", "deadline", "number"
    )
    earlier = list(mine)
    now = timezone.now()
    if any(status == Attempt.Status.IN_PROGRESS and due and due < now for _, status, due, _ in earlier):
        attempt_expire_overdue(learner_id=person.id, assessment_id=assessment.pk)
        earlier = list(mine)
    open_pk = next((pk for pk, status, _, _ in earlier if status == Attempt.Status.IN_PROGRESS), None)
    if open_pk is not None:
        return Attempt.objects.get(pk=open_pk), False
    if assessment.status != Assessment.Status.ACTIVE:
        raise AssessmentUnavailable("this assessment is archived: its subtopic is no longer in the course")
    if assessment.opens_at and now < assessment.opens_at:
        raise AssessmentUnavailable(f"this assessment opens at {assessment.opens_at.isoformat()}")
    if assessment.due_at and now >= assessment.due_at:
        raise AssessmentUnavailable(f"this assessment closed at {assessment.due_at.isoformat()}")
    done = max((number for _, _, _, number in earlier), default=0)
    if assessment.attempt_limit is not None and done >= assessment.attempt_limit:
        raise AssessmentUnavailable(
            f"no attempts left: the limit is {assessment.attempt_limit} and you have used {done}"
        )
    seed = secrets.token_hex(8)
    pool: dict[str, list[str]] = {s: [] for s in assessment.subtopics}
    for pk, subtopic in (
        Question.objects.filter(
            course_id=assessment.course_id,
            subtopic__in=assessment.subtopics,
            current=True,
            archived_at__isnull=True,
        )
        .order_by("id")
        .values_list("pk", "subtopic")
    ):
        pool[subtopic].append(str(pk))
    drawn = [int(pk) for pk in draw(pool, count=assessment.questions_per_attempt, seed=seed)]
    if not drawn:
        raise AssessmentUnavailable("this assessment has no questions yet")
    ends_at = deadline = None
    if assessment.time_limit_seconds or assessment.due_at:
        if assessment.time_limit_seconds:
            extra = (
                ExtraTime.objects.filter(assessment=assessment, learner_id=person.id)
                .values_list("seconds", flat=True)
                .first()
                or 0
            )
            ends_at = now + timedelta(seconds=assessment.time_limit_seconds + extra)
            if assessment.due_at:
                ends_at = min(ends_at, assessment.due_at)
        else:
            ends_at = assessment.due_at
        grace = assessment.grace_seconds
        deadline = ends_at + timedelta(
            seconds=settings.EDUVAULT_EXAM_GRACE_SECONDS if grace is None else grace
        )
    questions = {q.pk: q for q in Question.objects.filter(pk__in=drawn)}
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                assessment=assessment,
                learner_id=person.id,
                number=done + 1,
                seed=seed,
                started_at=now,
                ends_at=ends_at,
                deadline=deadline,
                max_score=sum(question_parsed(questions[pk]).points for pk in drawn),
            )
            attempt.responses_in_order = Response.objects.bulk_create(
                [Response(attempt=attempt, question=questions[pk], position=i) for i, pk in enumerate(drawn)]
            )
            # Last, as it publishes to the feed (whose lock is then held to the commit).
            if person.role == Role.LEARNER:
                enrollment_ensure(
                    course=assessment.course,
                    person=person_for_user_id(user_id=person.id),
                    username=person.username,
                )
    except IntegrityError:
        # The same learner started twice at once: both get the attempt that won.
        existing = Attempt.objects.filter(
            assessment=assessment, learner_id=person.id, status=Attempt.Status.IN_PROGRESS
        ).first()
        if existing is None:
            raise
        return existing, False
    log.info(
        "attempt.started",
        attempt_id=str(attempt.pk),
        assessment_id=assessment.pk,
        learner_id=person.id,
        number=attempt.number,
        questions=len(drawn),
        timed=deadline is not None,
    )
    return attempt, True


@dataclass(frozen=True)
class AnswerOutcome:
    result: dict[str, Any]
    #: True when this client id had been answered before (a retried request).
    repeated: bool


def _stored_outcome(prior: Prior, *, client_id: str, question: str, given: Any) -> AnswerOutcome:
    # The stored result names its question: no join needed to tell a retry from a misuse.
    if prior.question != question or prior.answer != given:
        raise Conflict(
            f"client_id {client_id!r} was already used for another answer in this attempt; "
            "use a new client_id for each answer"
        )
    return AnswerOutcome(prior.result, repeated=True)


def attempt_answer(
    *, attempt_id: Any, person: SignedIn, client_id: str, question: str, answer: Any
) -> AnswerOutcome:
    """Record (and grade) one answer. Idempotent by ``client_id``: the same answer sent
    again returns the first result and counts once. One transaction (:mod:`.answering`):
    lock the attempt (answers to one attempt are serialized), then read the answer stored
    under the client id and the question's response (after the lock, so a duplicate that
    waited finds the first), then update the response and insert the answer; an attempt
    found past its deadline is closed at the deadline instead (lazy expiry) and the answer
    refused."""
    if not isinstance(client_id, str) or not (1 <= len(client_id) <= 100):
        raise InvalidInput("client_id: give a string of 1 to 100 characters, unique per answer")
    attempt_id = attempt_pk(attempt_id)
    answers = answering.store()
    with transaction.atomic():
        locked = answers.lock(attempt_id=attempt_id, client_id=client_id, question=question)
        if locked is None or (locked.learner_id != person.id and person.role == Role.LEARNER):
            raise AttemptNotFound(f"no attempt {attempt_id}")
        if locked.prior is not None:
            return _stored_outcome(locked.prior, client_id=client_id, question=question, given=answer)
        if locked.learner_id != person.id:
            raise PermissionDenied("only the learner who started an attempt answers in it")
        now = timezone.now()
        overdue = locked.deadline is not None and now > locked.deadline
        if locked.status == Attempt.Status.IN_PROGRESS and not overdue:
            return _answer_locked(answers, locked=locked, now=now, client_id=client_id, question=question, answer=answer)
        attempt = _load_attempt(attempt_id, lock=False, course=False)
        if attempt.status == Attempt.Status.IN_PROGRESS:
            _close(attempt, at=attempt.deadline, closed_by=Attempt.ClosedBy.DEADLINE)
    if overdue:
        raise TimeUp("the time for this attempt is up; it takes no more answers")
    raise AttemptClosed(
        f"this attempt was submitted at {attempt.submitted_at.isoformat()}; it takes no more answers"
    )


def _answer_locked(
    answers: Any, *, locked: Locked, now: datetime, client_id: str, question: str, answer: Any
) -> AnswerOutcome:
    place = locked.place
    if place is None:
        raise InvalidInput(f"question: this attempt has no question {question!r}")
    immediate = locked.feedback == Assessment.Feedback.IMMEDIATE
    if immediate and place.done:
        why = "was answered correctly" if place.correct else "has no tries left"
        raise AttemptClosed(f"question {question!r} {why}")
    parsed = document_parsed(place.document)
    try_number = place.tries + 1 if immediate else 1
    tried = grade_try(parsed, answer, try_number=try_number)
    tries, wrong_tries, done = place.tries + 1, place.wrong_tries, place.done
    newly: list[tuple[Mastery, Any]] = []
    if immediate:
        if not tried.correct:
            wrong_tries += 1
        done = tried.correct or tries >= locked.max_tries
        shown = reveal(parsed, tried, wrong_tries=wrong_tries, final=done)
        result = {**shown, "tries": tries, "tries_left": max(0, locked.max_tries - tries), "done": done}
        if try_number == 1:
            newly = _mastery_observe(
                learner_id=locked.learner_id,
                course_id=locked.course_id,
                outcomes={place.subtopic: [tried.correct]},
                assessment=Assessment(
                    pk=locked.assessment_id,
                    course_id=locked.course_id,
                    kind=locked.kind,
                    mastery_rule=locked.mastery_rule,
                ),
            )
    else:
        result = {"recorded": True, "tries": tries}
    result = {"client_id": client_id, "question": question, **result}
    if locked.ends_at is not None:
        result["seconds_remaining"] = seconds_left(locked.ends_at, now)
    answers.record(
        attempt_id=locked.attempt_id,
        recorded=answering.Recorded(
            place=place,
            tries=tries,
            wrong_tries=wrong_tries,
            done=done,
            answer=answer,
            score=tried.score,
            raw_score=tried.raw_score,
            correct=tried.correct,
            try_number=try_number,
            client_id=client_id,
            result=result,
            now=now,
        ),
    )
    if newly:  # last: it publishes to the feed, whose lock is then held to the commit
        record_local_changes(
            changes=_mastery_changes(
                newly,
                course=Course.objects.get(pk=locked.course_id),
                person=person_for_user_id(user_id=locked.learner_id),
            )
        )
    return AnswerOutcome(result, repeated=False)


def seconds_left(ends_at: datetime, now: datetime) -> int:
    """Whole seconds from ``now`` to ``ends_at`` (0 once past): what clients are told, never
    a timestamp."""
    return max(0, int((ends_at - now).total_seconds()))


def attempt_submit(*, attempt_id: Any, person: SignedIn) -> Attempt:
    """Submit an attempt: it is graded and never changes again. Submitting again (a retry)
    returns it as it is; an attempt past its deadline was already closed at the deadline."""
    with transaction.atomic():
        attempt = attempt_access(attempt_id=attempt_id, person=person, lock=True)
        if attempt.status == Attempt.Status.IN_PROGRESS:
            now = timezone.now()
            if attempt.deadline is not None and attempt.deadline < now:  # lazy expiry
                _close(attempt, at=attempt.deadline, closed_by=Attempt.ClosedBy.DEADLINE)
            elif attempt.learner_id != person.id:
                raise PermissionDenied("only the learner who started an attempt submits it")
            else:
                _close(attempt, at=now, closed_by=Attempt.ClosedBy.LEARNER)
    return attempt


def _close(attempt: Attempt, *, at: datetime, closed_by: str) -> None:
    """Grade and close a locked, open attempt; publish its grade (critical) to the feed."""
    assessment = attempt.assessment
    responses = attempt.responses_in_order
    earned = possible = 0.0
    for response in responses:
        points = question_parsed(response.question).points
        possible += points
        earned += response.score * points
    attempt.status = Attempt.Status.SUBMITTED
    attempt.submitted_at = at
    attempt.closed_by = closed_by
    attempt.score = round(earned, 6)
    attempt.max_score = round(possible, 6)
    attempt.passed = possible > 0 and earned / possible >= assessment.passing_threshold - 1e-9
    attempt.save(update_fields=["status", "submitted_at", "closed_by", "score", "max_score", "passed"])
    newly: list[tuple[Mastery, Any]] = []
    if assessment.feedback == Assessment.Feedback.ON_SUBMIT:
        outcomes: dict[str, list[bool]] = defaultdict(list)
        for response in responses:
            if response.tries:
                outcomes[response.question.subtopic].append(response.correct)
        newly = _mastery_observe(
            learner_id=attempt.learner_id,
            course_id=assessment.course_id,
            outcomes=outcomes,
            assessment=assessment,
        )
    # The grade and the masteries it settles: one batch of the records hub.
    person = person_for_user_id(user_id=attempt.learner_id)
    record_local_changes(
        changes=[
            *_mastery_changes(newly, course=assessment.course, person=person),
            _grade_change(attempt, at=at, person=person),
        ]
    )
    log.info(
        "attempt.submitted",
        attempt_id=str(attempt.pk),
        assessment_id=assessment.pk,
        learner_id=attempt.learner_id,
        score=attempt.score,
        max_score=attempt.max_score,
        passed=attempt.passed,
        closed_by=closed_by,
    )


def attempt_close(*, attempt: Attempt, at: datetime, closed_by: str) -> None:
    """Grade and close a locked, open attempt (see :func:`attempt_submit` for a learner's)."""
    _close(attempt, at=at, closed_by=closed_by)


def attempt_grade_publish(*, attempt: Attempt, at: datetime) -> None:
    """A submitted attempt's grade as a record of the hub (critical in the feed)."""
    person = person_for_user_id(user_id=attempt.learner_id)
    record_local_changes(changes=[_grade_change(attempt, at=at, person=person)])


def _grade_change(attempt: Attempt, *, at: datetime, person: Person) -> LocalChange:
    assessment = attempt.assessment
    earned, possible = attempt.score or 0.0, attempt.max_score
    closed_by = attempt.closed_by
    return LocalChange(
        kind="exam_result" if assessment.kind == Assessment.Kind.EXAM else "grade",
        course=assessment.course,
        object=f"assessment:{assessment.pk}",
        person=person,
        title=assessment.title,
        actor=closed_by,
        at=at.timestamp(),
        fields={
            "score": attempt.score,
            "max": attempt.max_score,
            "percent": round(100 * earned / possible, 2) if possible else 0.0,
            "passed": attempt.passed,
            "status": "graded",
            "graded_at": at.isoformat(),
            "attempt": str(attempt.pk),
            "number": attempt.number,
            "started_at": attempt.started_at.isoformat(),
            "closed_by": closed_by,
        },
    )


def _expire_if_overdue(attempt_id: Any) -> None:
    """Lazy expiry: close the attempt at its deadline if that has passed (idempotent)."""
    overdue = Attempt.objects.filter(
        pk=attempt_pk(attempt_id), status=Attempt.Status.IN_PROGRESS, deadline__lt=timezone.now()
    ).exists()
    if overdue:
        _expire(attempt_id)


def _expire(attempt_id: Any, *, skip_locked: bool = False) -> bool:
    with transaction.atomic():
        attempts = Attempt.objects.select_related("assessment", "assessment__course").select_for_update(
            of=("self",), skip_locked=skip_locked
        )
        attempt = attempts.filter(pk=attempt_id).first()
        if attempt is None or attempt.status != Attempt.Status.IN_PROGRESS:
            return False
        if attempt.deadline is None or attempt.deadline >= timezone.now():
            return False
        _close(attempt, at=attempt.deadline, closed_by=Attempt.ClosedBy.DEADLINE)
        return True


def attempt_expire_overdue(*, learner_id: int | None = None, assessment_id: int | None = None) -> int:
    """Close every open attempt past its deadline, each at its deadline (the sweep, and lazy
    expiry before a learner starts again). Idempotent; safe in several workers at once."""
    started = time.monotonic()
    overdue = Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS, deadline__lt=timezone.now())
    if learner_id is not None:
        overdue = overdue.filter(learner_id=learner_id)
    if assessment_id is not None:
        overdue = overdue.filter(assessment_id=assessment_id)
    closed = 0
    for attempt_id in list(overdue.order_by("deadline").values_list("pk", flat=True)[:5000]):
        closed += _expire(attempt_id, skip_locked=True)
    if closed and learner_id is None:
        log.info("attempts.expired", closed=closed, duration_ms=int(1000 * (time.monotonic() - started)))
    return closed


# -- mastery -------------------------------------------------------------------------------------------


def skill_parameters(*, course_id: int, subtopic: str) -> BktParams:
    row = SkillParameters.objects.filter(course_id=course_id, subtopic=subtopic).first()
    if row is None:
        return DEFAULT_PARAMS
    return BktParams(prior=row.prior, learn=row.learn, guess=row.guess, slip=row.slip)


def mastery_rule_for(spec: dict[str, Any] | None) -> Any:
    return rule_from_spec(spec or {"rule": "bkt", "threshold": settings.EDUVAULT_MASTERY_THRESHOLD})


def _mastery_observe(
    *, learner_id: int, course_id: int, outcomes: dict[str, list[bool]], assessment: Assessment
) -> list[tuple[Mastery, Any]]:
    """Update the learner's knowledge of each subtopic with graded answers, in order.
    Returns the rows newly mastered, with their rules, for the caller to announce
    (:func:`_mastery_changes`, with the other changes of its transaction). A few statements
    whatever the number of subtopics (an exam's submission updates all of its subtopics at
    once): the parameters, the rules, the rows locked (made first where missing), and the
    rows written."""
    subtopics = sorted(s for s, answers in outcomes.items() if answers)
    if not subtopics:
        return []
    params = {
        row.subtopic: BktParams(prior=row.prior, learn=row.learn, guess=row.guess, slip=row.slip)
        for row in SkillParameters.objects.filter(course_id=course_id, subtopic__in=subtopics)
    }
    if assessment.kind == Assessment.Kind.PRACTICE:
        specs = dict.fromkeys(subtopics, assessment.mastery_rule)
    else:
        specs = dict(
            Assessment.objects.filter(
                course_id=assessment.course_id, kind=Assessment.Kind.PRACTICE, subtopic__in=subtopics
            ).values_list("subtopic", "mastery_rule")
        )
    mine = Mastery.objects.filter(learner_id=learner_id, course_id=course_id)
    rows = {row.subtopic: row for row in mine.select_for_update().filter(subtopic__in=subtopics)}
    missing = [s for s in subtopics if s not in rows]
    if missing:
        # Another request may make the same rows meanwhile: theirs stand, and are locked here.
        Mastery.objects.bulk_create(
            [
                Mastery(
                    learner_id=learner_id,
                    course_id=course_id,
                    subtopic=s,
                    p_known=params.get(s, DEFAULT_PARAMS).prior,
                )
                for s in missing
            ],
            ignore_conflicts=True,
        )
        rows.update({row.subtopic: row for row in mine.select_for_update().filter(subtopic__in=missing)})
    now = timezone.now()
    newly = []
    for subtopic in subtopics:
        answers, row = outcomes[subtopic], rows[subtopic]
        p = row.p_known
        for correct in answers:
            p = update(p, correct, params.get(subtopic, DEFAULT_PARAMS))
        row.p_known = p
        row.answers += len(answers)
        row.correct += sum(answers)
        row.recent = (list(row.recent) + [bool(a) for a in answers])[-RECENT_KEEP:]
        row.updated_at = now
        rule = mastery_rule_for(specs.get(subtopic))
        if _mastered_check(row, rule):
            newly.append((row, rule))
    bulk.update_rows(
        Mastery,
        [
            {
                "id": row.pk,
                "p_known": row.p_known,
                "answers": row.answers,
                "correct": row.correct,
                "recent": row.recent,
                "mastered": row.mastered,
                "mastered_at": row.mastered_at.isoformat() if row.mastered_at else None,
                "updated_at": now.isoformat(),
            }
            for row in rows.values()
        ],
    )
    return newly


def _mastered_check(row: Mastery, rule: Any) -> bool:
    """Mark a mastery row mastered (once) when its rule says so: whether it is newly."""
    if row.mastered or not rule.mastered(
        p_known=row.p_known, recent=row.recent[-rule.window :] if rule.window else []
    ):
        return False
    row.mastered = True
    row.mastered_at = timezone.now()
    return True


def _mastery_changes(newly: Iterable[tuple[Mastery, Any]], *, course: Course, person: Person) -> list[LocalChange]:
    """The records hub's announcements of subtopics newly mastered."""
    return [
        LocalChange(
            kind="mastery",
            course=course,
            object=f"subtopic:{row.subtopic}",
            person=person,
            title=row.subtopic,
            actor="mastery",
            fields={
                "mastered": True,
                "p_known": round(row.p_known, 6),
                "answers": row.answers,
                "rule": rule.to_spec(),
                "mastered_at": row.mastered_at.isoformat(),
            },
        )
        for row, rule in newly
    ]


def mastery_retrace(*, learner_id: int, course_id: int, subtopics: Iterable[str]) -> int:
    """Trace a learner's knowledge of subtopics again from all their graded answers, in the
    order they were given (answers that arrived late, from a device, included). Call it in
    the transaction that stored the answers. Returns the rows written."""
    course = Course.objects.get(pk=course_id)
    observations = mastery_observations(course=course, learner_id=learner_id)
    written = 0
    newly = []
    for subtopic in sorted(set(subtopics)):
        sequence = observations.get((course_id, subtopic), {}).get(learner_id, [])
        if not sequence:
            continue
        params = skill_parameters(course_id=course_id, subtopic=subtopic)
        practice = Assessment.objects.filter(course_id=course_id, kind=Assessment.Kind.PRACTICE, subtopic=subtopic)
        rule = mastery_rule_for(practice.values_list("mastery_rule", flat=True).first())
        row, _ = Mastery.objects.select_for_update().get_or_create(
            learner_id=learner_id, course_id=course_id, subtopic=subtopic, defaults={"p_known": params.prior}
        )
        row.p_known = trace(params, sequence)[-1]
        row.answers = len(sequence)
        row.correct = sum(sequence)
        row.recent = [bool(c) for c in sequence[-RECENT_KEEP:]]
        if _mastered_check(row, rule):
            newly.append((row, rule))
        row.save()
        written += 1
    if newly:
        person = person_for_user_id(user_id=learner_id)
        record_local_changes(changes=_mastery_changes(newly, course=course, person=person))
    return written


@dataclass
class FitReport:
    #: Per subtopic: (course key, subtopic, params or None if skipped, answers, learners).
    subtopics: list[tuple[str, str, BktParams | None, int, int]] = field(default_factory=list)
    #: Learners whose probability was traced again with the new parameters.
    retraced: int = 0


def mastery_observations(
    *, course: Course | None = None, learner_id: int | None = None
) -> dict[tuple[int, str], dict[int, list[int]]]:
    """The graded answers knowledge tracing learns from, as the online updates saw them: per
    (course, subtopic), per learner, in time order. Under immediate feedback, each
    question's first try in an attempt; under on-submit feedback, each answered question of
    a submitted attempt."""
    timeline: dict[tuple[int, str], dict[int, list[tuple[Any, int, int]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    first_tries = Answer.objects.filter(
        try_number=1, attempt__assessment__feedback=Assessment.Feedback.IMMEDIATE
    ).values_list(
        "question__course_id", "question__subtopic", "attempt__learner_id", "created_at", "id", "correct"
    )
    if course is not None:
        first_tries = first_tries.filter(question__course=course)
    if learner_id is not None:
        first_tries = first_tries.filter(attempt__learner_id=learner_id)
    for course_id, subtopic, learner_id, at, pk, correct in first_tries.iterator(chunk_size=5000):
        timeline[(course_id, subtopic)][learner_id].append((at, pk, int(correct)))
    finals = Response.objects.filter(
        tries__gt=0,
        attempt__status=Attempt.Status.SUBMITTED,
        attempt__assessment__feedback=Assessment.Feedback.ON_SUBMIT,
    ).values_list(
        "question__course_id",
        "question__subtopic",
        "attempt__learner_id",
        "attempt__submitted_at",
        "position",
        "correct",
    )
    if course is not None:
        finals = finals.filter(question__course=course)
    if learner_id is not None:
        finals = finals.filter(attempt__learner_id=learner_id)
    for course_id, subtopic, learner_id, at, position, correct in finals.iterator(chunk_size=5000):
        timeline[(course_id, subtopic)][learner_id].append((at, position, int(correct)))
    return {
        skill: {learner: [c for *_, c in sorted(events)] for learner, events in learners.items()}
        for skill, learners in timeline.items()
    }


def mastery_fit(
    *,
    course: Course | None = None,
    min_answers: int = 50,
    num_fits: int = 5,
    seed: int = 42,
    on_subtopic: Any = None,
) -> FitReport:
    """Estimate knowledge-tracing parameters per subtopic from recorded answers (pyBKT),
    store them, and trace every learner's probability again with them. Subtopics with fewer
    than ``min_answers`` answers keep what they have."""
    started = time.monotonic()
    observations = mastery_observations(course=course)
    keys = dict(Course.objects.filter(pk__in={c for c, _ in observations}).values_list("pk", "key"))
    report = FitReport()
    for (course_id, subtopic), learners in sorted(
        observations.items(), key=lambda kv: (keys[kv[0][0]], kv[0][1])
    ):
        answers = sum(len(seq) for seq in learners.values())
        params = None
        if answers >= min_answers:
            fitted = fit_parameters({"skill": list(learners.values())}, num_fits=num_fits, seed=seed)
            params = fitted.get("skill")
        if params is not None:
            with transaction.atomic():
                SkillParameters.objects.update_or_create(
                    course_id=course_id,
                    subtopic=subtopic,
                    defaults={
                        "prior": params.prior,
                        "learn": params.learn,
                        "guess": params.guess,
                        "slip": params.slip,
                        "answers": answers,
                        "learners": len(learners),
                        "fitted_at": timezone.now(),
                    },
                )
                for learner_id, sequence in learners.items():
                    Mastery.objects.filter(
                        learner_id=learner_id, course_id=course_id, subtopic=subtopic
                    ).update(p_known=trace(params, sequence)[-1] if sequence else params.prior)
                    report.retraced += 1
        report.subtopics.append((keys[course_id], subtopic, params, answers, len(learners)))
        if on_subtopic is not None:
            on_subtopic()
    log.info(
        "mastery.fitted",
        subtopics=len(report.subtopics),
        fitted=sum(1 for s in report.subtopics if s[2] is not None),
        retraced=report.retraced,
        duration_ms=int(1000 * (time.monotonic() - started)),
    )
    return report


def assessment_link(
    *, assessment_id: int, source_name: str, course_id: str, assignment_id: str, actor: str
) -> ObjectLink:
    """Link an assessment to an assignment of a platform's course (a Canvas assignment): its
    learners' grades go there, under the policies (Edu Vault owns its assessments' grades)."""
    assessment = Assessment.objects.select_related("course").filter(pk=assessment_id).first()
    if assessment is None:
        raise AssessmentNotFound(f"no assessment {assessment_id}")
    return object_link_set(
        source=source_get(name=source_name),
        course_id=course_id,
        assignment_id=assignment_id,
        home_course=assessment.course,
        home_object=f"assessment:{assessment.pk}",
        actor=actor,
    )


def assessment_unlink(*, assessment_id: int, source_name: str) -> int:
    assessment = Assessment.objects.select_related("course").filter(pk=assessment_id).first()
    if assessment is None:
        raise AssessmentNotFound(f"no assessment {assessment_id}")
    return object_link_remove(
        source=source_get(name=source_name),
        home_course=assessment.course,
        home_object=f"assessment:{assessment.pk}",
    )
