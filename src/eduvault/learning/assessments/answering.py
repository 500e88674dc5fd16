"""The answer path's reads and writes: what recording one answer needs from the database, in
as few round trips and as little Python as the database allows.

The attempt locked (with its assessment's settings), then one read (an answer already
stored under the client id; the question's response and document) and one write (the
response updated and the answer inserted). On PostgreSQL both are statements prepared once per
connection and bound on the server (no SQL built per request, no ORM); elsewhere (SQLite, the
embedded default) the same work goes through the ORM. The rules (who may answer, deadlines,
grading, what the learner is shown) are :func:`services.attempt_answer`'s, once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import connection

from eduvault.learning.assessments.models import Answer, Attempt, Response


@dataclass
class Prior:
    """An answer already stored under the client id."""

    question: str | None
    answer: Any
    result: dict[str, Any]


@dataclass
class Place:
    """The question's response in the attempt, and the question."""

    response_id: int
    tries: int
    wrong_tries: int
    done: bool
    correct: bool
    question_id: int
    subtopic: str
    document: dict[str, Any]


@dataclass
class Locked:
    """The attempt, locked for the rest of the transaction, and what an answer needs of it."""

    attempt_id: uuid.UUID
    learner_id: int
    status: str
    ends_at: datetime | None
    deadline: datetime | None
    assessment_id: int
    course_id: int
    feedback: str
    max_tries: int
    kind: str
    mastery_rule: dict[str, Any] | None
    prior: Prior | None
    place: Place | None


@dataclass
class Recorded:
    """What :func:`record` writes: the response's new state and the answer's row."""

    place: Place
    tries: int
    wrong_tries: int
    done: bool
    answer: Any
    score: float
    raw_score: float
    correct: bool
    try_number: int
    client_id: str
    result: dict[str, Any]
    now: datetime


class OrmStore:
    """Any database Django supports, through the ORM."""

    def lock(self, *, attempt_id: uuid.UUID, client_id: str, question: str) -> Locked | None:
        attempt = (
            Attempt.objects.select_for_update(of=("self",))
            .select_related("assessment")
            .filter(pk=attempt_id)
            .order_by()
            .first()
        )
        if attempt is None:
            return None
        prior = None
        for stored in Answer.objects.filter(attempt_id=attempt_id, client_id=client_id).order_by()[:1]:
            prior = Prior(stored.result.get("question"), stored.answer, stored.result)
        place = None
        for response in (
            Response.objects.select_related("question")
            .filter(attempt_id=attempt_id, question__key=question)
            .order_by()[:1]
        ):
            place = Place(
                response.pk,
                response.tries,
                response.wrong_tries,
                response.done,
                response.correct,
                response.question_id,
                response.question.subtopic,
                response.question.document,
            )
        assessment = attempt.assessment
        return Locked(
            attempt.pk,
            attempt.learner_id,
            attempt.status,
            attempt.ends_at,
            attempt.deadline,
            assessment.pk,
            assessment.course_id,
            assessment.feedback,
            assessment.max_tries,
            assessment.kind,
            assessment.mastery_rule,
            prior,
            place,
        )

    def record(self, *, attempt_id: uuid.UUID, recorded: Recorded) -> None:
        Response.objects.filter(pk=recorded.place.response_id).update(
            tries=recorded.tries,
            wrong_tries=recorded.wrong_tries,
            answer=recorded.answer,
            score=recorded.score,
            correct=recorded.correct,
            done=recorded.done,
            updated_at=recorded.now,
        )
        Answer.objects.create(
            attempt_id=attempt_id,
            client_id=recorded.client_id,
            question_id=recorded.place.question_id,
            try_number=recorded.try_number,
            answer=recorded.answer,
            score=recorded.score,
            raw_score=recorded.raw_score,
            correct=recorded.correct,
            result=recorded.result,
            created_at=recorded.now,
        )


# The lock first, on its own: only a statement that starts after the lock is granted sees
# what the transaction that held it committed (an answer stored under the same client id,
# the response's tries); a join in the locking statement would read them as they were.
_LOCK = """
SELECT a.learner_id, a.status, a.ends_at, a.deadline, s.id, s.course_id, s.feedback, s.max_tries,
       s.kind, s.mastery_rule
FROM assessments_attempt a JOIN assessments_assessment s ON s.id = a.assessment_id
WHERE a.id = %(attempt)s
FOR UPDATE OF a
"""

_READ = """
SELECT x.answer, x.result, r.id, r.tries, r.wrong_tries, r.done, r.correct, q.id, q.subtopic, q.document
FROM (SELECT %(attempt)s::uuid AS id) a
LEFT JOIN assessments_answer x ON x.attempt_id = a.id AND x.client_id = %(client_id)s
LEFT JOIN (assessments_response r JOIN assessments_question q ON q.id = r.question_id AND q.key = %(question)s)
       ON r.attempt_id = a.id
LIMIT 1
"""

_RECORD = """
WITH updated AS (
    UPDATE assessments_response
    SET tries = %(tries)s, wrong_tries = %(wrong_tries)s, answer = %(answer)s::jsonb, score = %(score)s,
        correct = %(correct)s, done = %(done)s, updated_at = %(now)s
    WHERE id = %(response)s
)
INSERT INTO assessments_answer
    (attempt_id, client_id, question_id, try_number, answer, score, raw_score, correct, result, created_at)
VALUES (%(attempt)s, %(client_id)s, %(question)s, %(try_number)s, %(answer)s::jsonb, %(score)s, %(raw_score)s,
        %(correct)s, %(result)s::jsonb, %(now)s)
"""


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class PostgresStore:
    """PostgreSQL: three statements, prepared once per connection, bound on the server."""

    @staticmethod
    def _cursor() -> Any:
        """A cursor binding on the server (Django's own binds on the client, so nothing it
        runs is prepared), preparing from the first execution, wrapped as Django wraps its
        cursors (errors mapped, queries counted where they are captured)."""
        from django.db.backends.postgresql.base import ServerBindingCursor

        connection.ensure_connection()
        raw = connection.connection
        raw.prepare_threshold = 0  # only server-binding cursors (these) ever prepare
        return connection._prepare_cursor(ServerBindingCursor(raw))

    def lock(self, *, attempt_id: uuid.UUID, client_id: str, question: str) -> Locked | None:
        with self._cursor() as cursor:
            cursor.execute(_LOCK, {"attempt": attempt_id})
            row = cursor.fetchone()
            if row is None:
                return None
            cursor.execute(_READ, {"attempt": attempt_id, "client_id": client_id, "question": question})
            read = cursor.fetchone()
        (learner_id, status, ends_at, deadline, assessment_id, course_id, feedback, max_tries, kind, rule) = row
        (prior_answer, prior_result, response_id, tries, wrong_tries, done, correct, question_id, subtopic,
         document) = read
        prior = None
        if prior_result is not None:
            result = orjson.loads(prior_result)
            prior = Prior(result.get("question"), orjson.loads(prior_answer), result)
        place = None
        if response_id is not None:
            place = Place(
                response_id, tries, wrong_tries, done, correct, question_id, subtopic, orjson.loads(document)
            )
        return Locked(
            attempt_id, learner_id, status, ends_at, deadline, assessment_id, course_id, feedback, max_tries,
            kind, orjson.loads(rule) if rule is not None else None, prior, place,
        )

    def record(self, *, attempt_id: uuid.UUID, recorded: Recorded) -> None:
        r = recorded
        with self._cursor() as cursor:
            cursor.execute(
                _RECORD,
                {
                    "response": r.place.response_id,
                    "tries": r.tries,
                    "wrong_tries": r.wrong_tries,
                    "answer": _json(r.answer),
                    "score": r.score,
                    "correct": r.correct,
                    "done": r.done,
                    "now": r.now,
                    "attempt": attempt_id,
                    "client_id": r.client_id,
                    "question": r.place.question_id,
                    "try_number": r.try_number,
                    "raw_score": r.raw_score,
                    "result": _json(r.result),
                },
                
            )


def store() -> OrmStore | PostgresStore:
    return PostgresStore() if connection.vendor == "postgresql" else OrmStore()
