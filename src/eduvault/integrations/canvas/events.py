"""Canvas Live Events (the Canvas format, ``{"metadata": {...}, "body": {...}}``) as work.

Shapes from canvas-lms ``doc/api/data_services/json/canvas/event-types/*.json`` and
``metadata.json`` (see ``shared/reference/canvas_discourse.md`` §1):

- structure events (``course_*``, ``module_*``, ``module_item_*``, ``assignment_*``) ask for
  the course's structure to be read again: one ``course`` subject per course, so a burst of
  them is one sync;
- ``grade_change``, ``submission_created``/``_updated``, ``course_completed``,
  ``course_grade_change``, ``enrollment_created``/``_updated`` carry learner records.

Canvas gives no event id: the dedupe key is a hash of the event's name, time and body (a
redelivery of the same event has the same key). Canvas ids in bodies are local ids; in
metadata they may be global (``shard * 10**13 + local``): both are read as local ids. Events
Edu Vault does not follow are accepted and ignored (a Canvas subscription carries many).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson

from eduvault.cores.records.policy import KINDS
from eduvault.integrations.base import Arrival, PersonFacts, RecordFacts
from eduvault.kernel.errors import InvalidEvent, MalformedEvent

SHARD_FACTOR = 10**13

STRUCTURE_EVENTS = frozenset(
    {
        "course_created",
        "course_updated",
        "module_created",
        "module_updated",
        "module_item_created",
        "module_item_updated",
        "assignment_created",
        "assignment_updated",
    }
)

#: Canvas enrollment types -> Edu Vault roles.
ROLES = {
    "StudentEnrollment": "learner",
    "TeacherEnrollment": "instructor",
    "TaEnrollment": "ta",
    "ObserverEnrollment": "observer",
    "DesignerEnrollment": "designer",
    "StudentViewEnrollment": "learner",
}
#: Canvas enrollment workflow states -> Edu Vault's.
STATES = {
    "active": "active",
    "invited": "invited",
    "creation_pending": "invited",
    "inactive": "inactive",
    "completed": "completed",
    "rejected": "deleted",
    "deleted": "deleted",
}


def local_id(value: Any) -> str:
    """A Canvas id as its local id (a global id is ``shard * 10**13 + local``)."""
    text = str(value).strip()
    if not text.isdigit():
        raise InvalidEvent(f"{value!r} is not a Canvas id")
    number = int(text)
    return str(number % SHARD_FACTOR if number >= SHARD_FACTOR else number)


def event_time(metadata: Mapping[str, Any]) -> datetime:
    raw = metadata.get("event_time")
    if not isinstance(raw, str):
        raise MalformedEvent("a Canvas live event needs metadata.event_time")
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent(f"metadata.event_time {raw!r} is not an ISO-8601 time") from None


def dedupe_key(event: Mapping[str, Any]) -> str:
    metadata = event.get("metadata") or {}
    canonical = orjson.dumps(
        [metadata.get("event_name"), metadata.get("event_time"), event.get("body")],
        option=orjson.OPT_SORT_KEYS,
    )
    return "canvas:" + hashlib.sha256(canonical).hexdigest()[:40]


def parse_live_event(event: Any, *, source_name: str, api_user_id: str = "") -> list[Arrival]:
    """The work a Live Event asks for ([] for an event Edu Vault does not follow)."""
    if not isinstance(event, Mapping):
        raise MalformedEvent("a Canvas live event is a JSON object with metadata and body")
    metadata, body = event.get("metadata"), event.get("body")
    if not isinstance(metadata, Mapping) or not isinstance(body, Mapping):
        raise MalformedEvent("a Canvas live event has a metadata object and a body object")
    name = metadata.get("event_name")
    if not isinstance(name, str) or not name:
        raise MalformedEvent("a Canvas live event needs metadata.event_name")
    when = event_time(metadata)
    parse = PARSERS.get(name)
    if name in STRUCTURE_EVENTS:
        course = _course_id(name, metadata, body)
        return [
            Arrival(
                event_id=dedupe_key(event),
                type=f"canvas.{name}",
                subject="course",
                subject_key=f"{source_name}:{course}",
                payload={"metadata": dict(metadata), "body": dict(body)},
                priority="background",
                time=when,
            )
        ]
    if parse is None:
        return []
    try:
        fact = parse(metadata, body, f"{source_name}:", when.timestamp(), api_user_id)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(f"a Canvas {name} event without what it needs: {exc}") from None
    return [
        Arrival(
            event_id=dedupe_key(event),
            type=f"canvas.{name}",
            subject="record",
            subject_key=f"{fact.kind}:{fact.course_key}/{fact.object}/{fact.person.external_id}"[:255],
            payload={"records": [fact.to_json()]},
            priority=KINDS[fact.kind],
            time=when,
        )
    ]


def _course_id(name: str, metadata: Mapping[str, Any], body: Mapping[str, Any]) -> str:
    if name.startswith("course_") and body.get("course_id") is not None:
        return local_id(body["course_id"])
    if body.get("context_type") == "Course" and body.get("context_id") is not None:
        return local_id(body["context_id"])
    if metadata.get("context_type") == "Course" and metadata.get("context_id") is not None:
        return local_id(metadata["context_id"])
    raise InvalidEvent(f"a Canvas {name} event that names no course")


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


Parser = Callable[[Mapping[str, Any], Mapping[str, Any], str, float, str], RecordFacts]


def _grade_change(
    metadata: Mapping[str, Any], body: Mapping[str, Any], prefix: str, at: float, me: str
) -> RecordFacts:
    course = _course_id("grade_change", metadata, body)
    assignment = local_id(body["assignment_id"])
    user = local_id(body.get("student_id") or body["user_id"])
    grader = local_id(body["grader_id"]) if body.get("grader_id") else ""
    return RecordFacts(
        kind="grade",
        course_key=prefix + course,
        object=f"assignment:{assignment}",
        person=PersonFacts(external_id=user, sis_id=str(body.get("student_sis_id") or "")),
        fields={
            "score": _number(body.get("score")),
            "max": _number(body.get("points_possible")),
            "grade": body.get("grade"),
            "status": "graded" if body.get("grading_complete", True) else "pending",
        },
        at=at,
        links={
            "course_id": course,
            "assignment_id": assignment,
            "submission_id": local_id(body["submission_id"]) if body.get("submission_id") else "",
            "points_possible": _number(body.get("points_possible")),
        },
        actor=f"canvas user {grader}" if grader else "canvas",
        echo=bool(me) and grader == me,
        title=str(body.get("assignment_name") or ""),
    )


def _submission(
    metadata: Mapping[str, Any], body: Mapping[str, Any], prefix: str, at: float, me: str
) -> RecordFacts:
    course = _course_id("submission", metadata, body)
    assignment = local_id(body["assignment_id"])
    user = local_id(body["user_id"])
    return RecordFacts(
        kind="submission",
        course_key=prefix + course,
        object=f"assignment:{assignment}",
        person=PersonFacts(external_id=user),
        fields={
            "state": body.get("workflow_state"),
            "submitted_at": body.get("submitted_at"),
            "attempt": body.get("attempt"),
            "late": bool(body.get("late")),
            "missing": bool(body.get("missing")),
            "type": body.get("submission_type"),
        },
        at=at,
        links={
            "course_id": course,
            "assignment_id": assignment,
            "submission_id": local_id(body["submission_id"]),
        },
        actor="canvas",
    )


def _course_completed(
    metadata: Mapping[str, Any], body: Mapping[str, Any], prefix: str, at: float, me: str
) -> RecordFacts:
    course, user, progress = body["course"], body["user"], body.get("progress") or {}
    count, done = progress.get("requirement_count"), progress.get("requirement_completed_count")
    return RecordFacts(
        kind="completion",
        course_key=prefix + local_id(course["id"]),
        object="course",
        person=PersonFacts(
            external_id=local_id(user["id"]),
            name=str(user.get("name") or ""),
            email=str(user.get("email") or ""),
        ),
        fields={
            "completed": progress.get("completed_at") is not None,
            "completed_at": progress.get("completed_at"),
            "progress": round(done / count, 4) if count and done is not None else None,
        },
        at=at,
        links={"course_id": local_id(course["id"])},
        actor="canvas",
        title=str(course.get("name") or ""),
    )


def _course_grade_change(
    metadata: Mapping[str, Any], body: Mapping[str, Any], prefix: str, at: float, me: str
) -> RecordFacts:
    course = local_id(body["course_id"])
    return RecordFacts(
        kind="grade",
        course_key=prefix + course,
        object="course",
        person=PersonFacts(external_id=local_id(body["user_id"])),
        fields={
            "score": _number(body.get("current_score")),
            "final_score": _number(body.get("final_score")),
            "max": 100,
            "status": body.get("workflow_state"),
        },
        at=at,
        links={"course_id": course},
        actor="canvas",
        title="course grade",
    )


def _enrollment(
    metadata: Mapping[str, Any], body: Mapping[str, Any], prefix: str, at: float, me: str
) -> RecordFacts:
    course = local_id(body["course_id"])
    role = ROLES.get(str(body.get("type")), "learner")
    return RecordFacts(
        kind="enrollment",
        course_key=prefix + course,
        object=f"role:{role}",
        person=PersonFacts(external_id=local_id(body["user_id"]), name=str(body.get("user_name") or "")),
        fields={"role": role, "state": STATES.get(str(body.get("workflow_state")), "active")},
        at=at,
        links={"course_id": course, "enrollment_id": local_id(body["enrollment_id"])},
        actor="canvas",
    )


PARSERS: dict[str, Parser] = {
    "grade_change": _grade_change,
    "submission_created": _submission,
    "submission_updated": _submission,
    "course_completed": _course_completed,
    "course_grade_change": _course_grade_change,
    "enrollment_created": _enrollment,
    "enrollment_updated": _enrollment,
}
