"""Live Event bodies, one function per event type, shaped as the canvas-lms event-type docs show.

Source: instructure/canvas-lms ``doc/api/data_services/json/canvas/event-types/<name>.json``
(schema and example payload of each). Ids are local and strings, as "All new events will provide
local identifiers in the body" (the metadata template) and the module/course_grade_change
examples show; numbers (score, points_possible, position, attempt) stay numbers.

- ``course_created`` / ``course_updated``: course_id, uuid, account_id, name, created_at,
  updated_at, workflow_state.
- ``module_created`` / ``module_updated``: module_id, context_id, context_type, name, position,
  workflow_state.
- ``module_item_created`` / ``module_item_updated``: module_item_id, module_id, context_id,
  context_type, position, workflow_state (no title, no type: read the item over REST).
- ``assignment_created`` / ``assignment_updated``: assignment_id, assignment_group_id,
  context_id/context_type/context_uuid, title, description (first 8192 characters), due_at,
  unlock_at, lock_at, points_possible, submission_types (comma separated), lti_assignment_id,
  workflow_state, updated_at, domain.
- ``enrollment_created`` / ``enrollment_updated``: enrollment_id, course_id, course_section_id,
  user_id, user_name, type, workflow_state, limit_privileges_to_course_section, created_at,
  updated_at, associated_user_id (observers only).
- ``submission_created`` / ``submission_updated``: submission_id, assignment_id, user_id, attempt,
  body (first 8192), grade, score, graded_at, submitted_at, updated_at, submission_type, url,
  late, missing, workflow_state, group_id, lti_assignment_id, lti_user_id.
- ``grade_change``: assignment_id, submission_id, user_id, student_id, student_sis_id, grade,
  old_grade, score, old_score, points_possible, old_points_possible, grader_id,
  grading_complete, muted.
- ``course_grade_change``: user_id, course_id, workflow_state, created_at, updated_at, and
  current/final/unposted scores with their old_ values.
- ``course_completed``: course{account_id,id,name,sis_source_id}, progress{completed_at,
  next_requirement_url, requirement_completed_count, requirement_count}, user{email,id,name}.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eduvault.integrations.canvas.simulator.live_events import local_id as lid
from eduvault.integrations.canvas.simulator.models import (
    Assignment,
    Course,
    Enrollment,
    Module,
    ModuleItem,
    Scores,
    Submission,
    User,
    iso,
)

TRUNCATE = 8192


def course(c: Course) -> dict[str, Any]:
    return {
        "course_id": lid(c.id),
        "uuid": c.uuid,
        "account_id": lid(c.account_id),
        "name": c.name,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "workflow_state": c.workflow_state,
    }


def module(m: Module) -> dict[str, Any]:
    return {
        "module_id": lid(m.id),
        "context_id": lid(m.course_id),
        "context_type": "Course",
        "name": m.name,
        "position": m.position,
        "workflow_state": m.workflow_state,
    }


def module_item(course_id: int, item: ModuleItem) -> dict[str, Any]:
    return {
        "module_item_id": lid(item.id),
        "module_id": lid(item.module_id),
        "context_id": lid(course_id),
        "context_type": "Course",
        "position": item.position,
        "workflow_state": item.workflow_state,
    }


def assignment(c: Course, a: Assignment, domain: str) -> dict[str, Any]:
    return {
        "assignment_id": lid(a.id),
        "assignment_group_id": lid(a.assignment_group_id),
        "context_id": lid(c.id),
        "context_type": "Course",
        "context_uuid": c.uuid,
        "title": a.name[:TRUNCATE],
        "description": (a.description or "")[:TRUNCATE] or None,
        "due_at": iso(a.due_at),
        "unlock_at": iso(a.unlock_at),
        "lock_at": iso(a.lock_at),
        "points_possible": a.points_possible,
        "submission_types": ",".join(a.submission_types),
        "lti_assignment_id": a.lti_assignment_id,
        "workflow_state": a.workflow_state,
        "updated_at": iso(a.updated_at),
        "domain": domain,
    }


def enrollment(e: Enrollment, user: User) -> dict[str, Any]:
    body: dict[str, Any] = {
        "enrollment_id": lid(e.id),
        "course_id": lid(e.course_id),
        "course_section_id": lid(e.course_section_id),
        "user_id": lid(e.user_id),
        "user_name": user.name,
        "type": e.type,
        "workflow_state": e.enrollment_state,
        "limit_privileges_to_course_section": False,
        "created_at": iso(e.created_at),
        "updated_at": iso(e.updated_at),
    }
    if e.type == "ObserverEnrollment":
        body["associated_user_id"] = lid(e.associated_user_id)
    return body


def submission(s: Submission, a: Assignment) -> dict[str, Any]:
    return {
        "submission_id": lid(s.id),
        "assignment_id": lid(s.assignment_id),
        "user_id": lid(s.user_id),
        "attempt": s.attempt,
        "body": (s.body or "")[:TRUNCATE] or None,
        "grade": s.grade,
        "score": s.score,
        "graded_at": iso(s.graded_at),
        "submitted_at": iso(s.submitted_at),
        "updated_at": iso(s.updated_at),
        "submission_type": s.submission_type,
        "url": s.url,
        "late": s.late,
        "missing": s.missing,
        "workflow_state": s.workflow_state,
        "group_id": None,
        "lti_assignment_id": a.lti_assignment_id,
        "lti_user_id": None,
    }


def grade_change(
    s: Submission,
    a: Assignment,
    student: User,
    *,
    old_grade: str | None,
    old_score: float | None,
    old_points_possible: float | None,
) -> dict[str, Any]:
    return {
        "assignment_id": lid(a.id),
        "submission_id": lid(s.id),
        "user_id": lid(s.user_id),
        "student_id": lid(s.user_id),
        "student_sis_id": student.sis_user_id,
        "grade": s.grade,
        "old_grade": old_grade,
        "score": s.score,
        "old_score": old_score,
        "points_possible": a.points_possible,
        "old_points_possible": old_points_possible,
        "grader_id": lid(s.grader_id),
        "grading_complete": s.workflow_state == "graded",
        "muted": a.post_manually and s.posted_at is None,
    }


def course_grade_change(course_id: int, user_id: int, new: Scores, old: Scores) -> dict[str, Any]:
    return {
        "user_id": lid(user_id),
        "course_id": lid(course_id),
        "workflow_state": "active",
        "created_at": iso(new.created_at),
        "updated_at": iso(new.updated_at),
        "current_score": new.current_score,
        "old_current_score": old.current_score,
        "final_score": new.final_score,
        "old_final_score": old.final_score,
        # every grade the simulator gives is posted at once (no manual posting policy)
        "unposted_current_score": new.current_score,
        "old_unposted_current_score": old.current_score,
        "unposted_final_score": new.final_score,
        "old_unposted_final_score": old.final_score,
    }


def course_completed(
    c: Course, user: User, *, completed_at: datetime, done: int, total: int, next_url: str | None
) -> dict[str, Any]:
    return {
        "course": {
            "account_id": lid(c.account_id),
            "id": lid(c.id),
            "name": c.name,
            "sis_source_id": c.sis_course_id,
        },
        "progress": {
            "completed_at": iso(completed_at),
            "next_requirement_url": next_url,
            "requirement_completed_count": done,
            "requirement_count": total,
        },
        "user": {"email": user.email, "id": lid(user.id), "name": user.name},
    }
