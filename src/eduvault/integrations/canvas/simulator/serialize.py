"""REST JSON, shaped as Canvas's API serializers shape it. Ids are integers, times ISO-8601 ``Z``.

Sources (instructure/canvas-lms):

- courses: ``lib/api/v1/course_json.rb`` and the ``Course`` model doc in
  ``app/controllers/courses_controller.rb``;
- modules and items: ``lib/api/v1/context_module.rb`` (``module_json``: id, position, name,
  unlock_at, require_sequential_progress, publish_final_grade, prerequisite_module_ids,
  published, items_count, items_url, and ``items`` only when asked for *and* the module has at
  most ``Api::MAX_PER_PAGE`` items; no workflow_state) and ``module_item_json`` (html_url except
  for SubHeader, content_id except for Page/SubHeader/ExternalUrl, page_url for Page, url = the
  content's API URL, external_url and new_tab for ExternalUrl/ExternalTool, content_details only
  with the non-null of due_at/unlock_at/lock_at/points_possible plus lock info);
- assignments: ``lib/api/v1/assignment.rb`` / the ``Assignment`` model doc;
- enrollments and users: ``lib/api/v1/user.rb`` (``enrollment_json``, ``user_json``);
- submissions: ``lib/api/v1/submission.rb`` / the ``Submission`` model doc in
  ``app/controllers/submissions_api_controller.rb``;
- grading standards: ``lib/api/v1/grading_standard.rb``; progress: ``lib/api/v1/progress.rb``.
"""

from __future__ import annotations

from typing import Any

from eduvault.integrations.canvas.simulator.models import (
    Assignment,
    Course,
    Enrollment,
    GradingStandard,
    Module,
    ModuleItem,
    Progress,
    Scores,
    Submission,
    User,
    iso,
)

_CONTENT_PATHS = {
    "Assignment": "assignments",
    "Quiz": "quizzes",
    "Discussion": "discussion_topics",
    "File": "files",
}


def course_json(base: str, c: Course, enrollments: list[Enrollment] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": c.id,
        "name": c.name,
        "course_code": c.course_code,
        "workflow_state": c.workflow_state,
        "account_id": c.account_id,
        "root_account_id": c.root_account_id,
        "uuid": c.uuid,
        "start_at": iso(c.start_at),
        "end_at": iso(c.end_at),
        "created_at": iso(c.created_at),
        "default_view": c.default_view,
        "grading_standard_id": c.grading_standard_id,
        "sis_course_id": c.sis_course_id,
        "integration_id": None,
        "enrollment_term_id": 1,
        "is_public": False,
        "public_syllabus": False,
        "apply_assignment_group_weights": False,
        "restrict_enrollments_to_course_dates": False,
        "hide_final_grades": False,
        "time_zone": c.time_zone,
        "blueprint": False,
        "template": False,
        "license": "private",
        "calendar": {"ics": f"{base}/feeds/calendars/course_{c.uuid}.ics"},
    }
    if enrollments is not None:
        body["enrollments"] = [
            {
                "type": e.type.removesuffix("Enrollment").lower(),
                "role": e.role,
                "role_id": 1,
                "user_id": e.user_id,
                "enrollment_state": e.enrollment_state,
                "limit_privileges_to_course_section": False,
            }
            for e in enrollments
        ]
    return body


def item_json(
    base: str, course_id: int, item: ModuleItem, assignment: Assignment | None, details: bool
) -> dict:
    body: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "position": item.position,
        "indent": item.indent,
        "type": item.type,
        "module_id": item.module_id,
    }
    if item.type == "ExternalUrl":
        body["html_url"] = f"{base}/api/v1/courses/{course_id}/module_item_redirect/{item.id}"
    elif item.type != "SubHeader":
        body["html_url"] = f"{base}/courses/{course_id}/modules/items/{item.id}"
    if item.type not in ("Page", "SubHeader", "ExternalUrl"):
        body["content_id"] = item.content_id
    if item.type == "Page":
        body["page_url"] = item.page_url
        body["url"] = f"{base}/api/v1/courses/{course_id}/pages/{item.page_url}"
    elif item.type in _CONTENT_PATHS:
        body["url"] = f"{base}/api/v1/courses/{course_id}/{_CONTENT_PATHS[item.type]}/{item.content_id}"
    elif item.type == "ExternalTool":
        body["url"] = (
            f"{base}/api/v1/courses/{course_id}/external_tools/sessionless_launch"
            f"?launch_type=module_item&module_item_id={item.id}"
        )
    if item.type in ("ExternalUrl", "ExternalTool"):
        body["external_url"] = item.external_url
        body["new_tab"] = item.new_tab
    if item.completion_requirement:
        requirement = {"type": item.completion_requirement["type"]}
        if requirement["type"] == "min_score":
            requirement["min_score"] = item.completion_requirement.get("min_score")
        body["completion_requirement"] = requirement
    body["published"] = item.workflow_state == "active"
    body["unpublishable"] = True
    if details:
        source: dict[str, Any] = dict(item.details)
        if assignment is not None:
            source.update(
                points_possible=assignment.points_possible,
                due_at=iso(assignment.due_at),
                unlock_at=iso(assignment.unlock_at),
                lock_at=iso(assignment.lock_at),
            )
        found = {k: source.get(k) for k in ("due_at", "unlock_at", "lock_at", "points_possible")}
        body["content_details"] = {k: v for k, v in found.items() if v is not None} | {
            "locked_for_user": False
        }
    return body


def module_json(
    base: str, m: Module, items: list[dict[str, Any]] | None, items_count: int, show_items: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": m.id,
        "name": m.name,
        "position": m.position,
        "unlock_at": iso(m.unlock_at),
        "require_sequential_progress": m.require_sequential_progress,
        "publish_final_grade": m.publish_final_grade,
        "prerequisite_module_ids": list(m.prerequisite_module_ids),
        "published": m.published,
        "items_count": items_count,
        "items_url": f"{base}/api/v1/courses/{m.course_id}/modules/{m.id}/items",
    }
    if show_items and items is not None:
        body["items"] = items
    return body


def assignment_json(base: str, a: Assignment) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "description": a.description,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
        "due_at": iso(a.due_at),
        "lock_at": iso(a.lock_at),
        "unlock_at": iso(a.unlock_at),
        "has_overrides": False,
        "course_id": a.course_id,
        "html_url": f"{base}/courses/{a.course_id}/assignments/{a.id}",
        "submissions_download_url": f"{base}/courses/{a.course_id}/assignments/{a.id}/submissions?zip=1",
        "assignment_group_id": a.assignment_group_id,
        "due_date_required": False,
        "allowed_extensions": [],
        "max_name_length": 255,
        "grade_group_students_individually": False,
        "peer_reviews": False,
        "position": a.position,
        "post_manually": a.post_manually,
        "anonymous_grading": False,
        "moderated_grading": False,
        "points_possible": a.points_possible,
        "submission_types": list(a.submission_types),
        "grading_type": a.grading_type,
        "grading_standard_id": a.grading_standard_id,
        "published": a.published,
        "unpublishable": True,
        "only_visible_to_overrides": False,
        "locked_for_user": False,
        "muted": a.post_manually,
        "omit_from_final_grade": False,
        "hide_in_gradebook": False,
        "workflow_state": a.workflow_state,
        "is_quiz_assignment": False,
        "lti_context_id": a.lti_assignment_id,
        "integration_id": None,
    }


def user_json(u: User, *, email: bool = False) -> dict[str, Any]:
    body = {
        "id": u.id,
        "name": u.name,
        "created_at": iso(u.created_at),
        "sortable_name": u.sortable_name,
        "short_name": u.short_name,
        "sis_user_id": u.sis_user_id,
        "integration_id": None,
        "root_account": "canvas.simulator",
        "login_id": u.login_id,
    }
    if email:
        body["email"] = u.email
    return body


def enrollment_json(
    base: str, e: Enrollment, user: User | None, course: Course, scores: Scores | None
) -> dict:
    body: dict[str, Any] = {
        "id": e.id,
        "user_id": e.user_id,
        "course_id": e.course_id,
        "type": e.type,
        "created_at": iso(e.created_at),
        "updated_at": iso(e.updated_at),
        "associated_user_id": e.associated_user_id,
        "start_at": None,
        "end_at": None,
        "course_section_id": e.course_section_id,
        "root_account_id": course.root_account_id,
        "limit_privileges_to_course_section": False,
        "enrollment_state": e.enrollment_state,
        "role": e.role,
        "role_id": 1,
        "last_activity_at": None,
        "last_attended_at": None,
        "total_activity_time": 0,
        "sis_course_id": course.sis_course_id,
        "sis_section_id": None,
        "sis_user_id": user.sis_user_id if user else None,
        "html_url": f"{base}/courses/{e.course_id}/users/{e.user_id}",
    }
    if e.type == "StudentEnrollment":
        current = scores.current_score if scores else None
        final = scores.final_score if scores else None
        body["grades"] = {
            "html_url": f"{base}/courses/{e.course_id}/grades/{e.user_id}",
            "current_score": current,
            "final_score": final,
            "current_grade": None,
            "final_grade": None,
            "unposted_current_score": current,
            "unposted_final_score": final,
        }
    if user is not None:
        body["user"] = user_json(user)
    return body


def submission_json(base: str, course_id: int, s: Submission) -> dict[str, Any]:
    return {
        "id": s.id,
        "assignment_id": s.assignment_id,
        "user_id": s.user_id,
        "body": s.body,
        "url": s.url,
        "grade": s.grade,
        "score": s.score,
        "entered_grade": s.entered_grade,
        "entered_score": s.entered_score,
        "submitted_at": iso(s.submitted_at),
        "graded_at": iso(s.graded_at),
        "grader_id": s.grader_id,
        "submission_type": s.submission_type,
        "workflow_state": s.workflow_state,
        "grade_matches_current_submission": s.grade_matches_current_submission,
        "attempt": s.attempt,
        "cached_due_date": None,
        "excused": s.excused,
        "late_policy_status": None,
        "points_deducted": None,
        "grading_period_id": None,
        "extra_attempts": None,
        "posted_at": iso(s.posted_at),
        "redo_request": False,
        "late": s.late,
        "missing": s.missing,
        "seconds_late": 0,
        "preview_url": f"{base}/courses/{course_id}/assignments/{s.assignment_id}/submissions/{s.user_id}?preview=1",
    }


def grading_standard_json(g: GradingStandard) -> dict[str, Any]:
    return {
        "id": g.id,
        "title": g.title,
        "context_type": g.context_type,
        "context_id": g.context_id,
        "points_based": False,
        "scaling_factor": 1.0,
        "grading_scheme": [{"name": name, "value": value} for name, value in g.grading_scheme],
    }


def progress_json(base: str, p: Progress) -> dict[str, Any]:
    return {
        "id": p.id,
        "context_id": p.context_id,
        "context_type": p.context_type,
        "user_id": p.user_id,
        "tag": p.tag,
        "completion": p.completion,
        "workflow_state": p.workflow_state,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "message": p.message,
        "url": f"{base}/api/v1/progress/{p.id}",
    }
