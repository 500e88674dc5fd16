"""Submission endpoints: listing, reading and grading submissions, bulk updates and their progress.

Source: instructure/canvas-lms ``app/controllers/submissions_api_controller.rb`` (index,
for_students, show, update, bulk_update) and ``progress_controller.rb``. ``students/submissions``
(ordered by id) is a ``BookmarkedCollection``: ``page=bookmark:…`` links and no ``last``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from eduvault.integrations.canvas.simulator import serialize as s
from eduvault.integrations.canvas.simulator.grading import GradeError
from eduvault.integrations.canvas.simulator.models import Course
from eduvault.integrations.canvas.simulator.pagination import as_list, first, paginate_bookmarked
from eduvault.integrations.canvas.simulator.rest import ApiError, Call, Reply, not_found, paged, unauthorized

# -- submissions ------------------------------------------------------------------------------------


def _since(call: Call, name: str) -> datetime | None:
    raw = first(call.query, name)
    if not raw:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})", raw):
        raise ApiError(400, {"errors": {name: f"Invalid datetime for {name}"}})
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def student_submissions(call: Call) -> Reply:
    course = call.course()
    grader = call.grader(course)
    requested = as_list(call.query.get("student_ids"))
    students = {e.user_id for e in course.student_enrollments(("active", "invited", "inactive", "completed"))}
    if "all" in requested:
        ids = students if grader else {call.user.id}
    elif requested:
        ids = {int(r) if r.isdigit() else -1 for r in requested}
        if not ids <= (students if grader else {call.user.id}):
            raise unauthorized()
    else:
        ids = {call.user.id}
    published = {a.id: a for a in course.active_assignments() if a.published}
    wanted = [int(a) for a in as_list(call.query.get("assignment_ids")) if a.isdigit()]
    if wanted and not set(wanted) <= set(published):
        raise ApiError(403, {"error": "invalid assignment ids requested"})
    assignments = {aid: published[aid] for aid in wanted} if wanted else published
    state = first(call.query, "workflow_state")
    graded_since, submitted_since = _since(call, "graded_since"), _since(call, "submitted_since")
    rows = [
        sub
        for (aid, uid), sub in course.submissions.items()
        if aid in assignments
        and uid in ids
        and (not state or sub.workflow_state == state)
        and (graded_since is None or (sub.graded_at is not None and sub.graded_at > graded_since))
        and (submitted_since is None or (sub.submitted_at is not None and sub.submitted_at > submitted_since))
    ]
    if first(call.query, "grouped") in ("1", "true"):
        users = sorted(ids & students)
        page = call.page(users, f"/api/v1/courses/{course.id}/students/submissions")
        body = [
            {
                "user_id": uid,
                "section_id": course.section_id,
                "sis_user_id": call.sim.users[uid].sis_user_id,
                "integration_id": None,
                "submissions": [
                    s.submission_json(call.base, course.id, sub)
                    for sub in sorted(rows, key=lambda r: r.id)
                    if sub.user_id == uid
                ],
            }
            for uid in page.items
        ]
        return paged(page, body)
    rows.sort(key=lambda r: r.id)
    page = paginate_bookmarked(
        rows,
        lambda r: [r.id],
        call.query,
        f"{call.base}/api/v1/courses/{course.id}/students/submissions",
        maximum=call.sim.max_per_page,
    )
    return paged(page, [s.submission_json(call.base, course.id, sub) for sub in page.items])


def _assignment(call: Call, course: Course) -> Any:
    assignment = course.assignments.get(int(call.args["assignment_id"]))
    if assignment is None or assignment.workflow_state == "deleted":
        raise not_found()
    return assignment


def list_submissions(call: Call) -> Reply:
    course = call.course()
    if not call.grader(course):
        raise unauthorized()
    assignment = _assignment(call, course)
    students = {e.user_id for e in course.student_enrollments()}
    rows = sorted(
        (sub for (aid, uid), sub in course.submissions.items() if aid == assignment.id and uid in students),
        key=lambda r: r.user_id,
    )
    page = call.page(rows, f"/api/v1/courses/{course.id}/assignments/{assignment.id}/submissions")
    return paged(page, [s.submission_json(call.base, course.id, sub) for sub in page.items])


def _student(call: Call, course: Course) -> int:
    ref = call.args["user_id"]
    user_id = call.user.id if ref == "self" else (int(ref) if ref.isdigit() else -1)
    if not call.sim.student_enrollment(course, user_id):
        raise not_found()
    return user_id


def show_submission(call: Call) -> Reply:
    course = call.course()
    assignment = _assignment(call, course)
    user_id = _student(call, course)
    if user_id != call.user.id and not call.grader(course):
        raise unauthorized()
    sub = course.submissions[(assignment.id, user_id)]
    return Reply(200, s.submission_json(call.base, course.id, sub))


def update_submission(call: Call) -> Reply:
    course = call.course()
    assignment = _assignment(call, course)
    user_id = _student(call, course)
    params = call.params.get("submission")
    if not call.grader(course):
        raise unauthorized()
    sim = call.sim
    if isinstance(params, dict) and ("posted_grade" in params or "excuse" in params):
        grade = params.get("posted_grade")
        excuse = (
            str(params.get("excuse", "")).lower() in ("1", "true", "on", "yes")
            if "excuse" in params
            else None
        )
        try:
            with sim._change(course, call.user.id) as emit:
                sub = sim._apply_grade(
                    course,
                    assignment,
                    user_id,
                    None if grade is None else str(grade),
                    call.user.id,
                    excuse,
                    emit,
                )
        except GradeError as exc:
            raise ApiError(400, {"error": str(exc)}) from exc
    else:
        sub = sim._placeholder(course, assignment, user_id)
    body = s.submission_json(call.base, course.id, sub)
    body["submission_comments"] = []
    body["all_submissions"] = [s.submission_json(call.base, course.id, sub)]
    return Reply(200, body)


def bulk_update(call: Call) -> Reply:
    course = call.course()
    data = call.params.get("grade_data")
    if not isinstance(data, dict) or not data:
        raise ApiError(400, {"error": "'grade_data' parameter required"})
    if "assignment_id" in call.args:  # the assignment-level endpoint keys grade_data by student
        data = {call.args["assignment_id"]: data}
    found = {
        key: course.assignments[int(key)]
        for key in data
        if str(key).isdigit()
        and int(key) in course.assignments
        and course.assignments[int(key)].workflow_state != "deleted"
    }
    if not call.grader(course) or not all(a.published for a in found.values()):
        raise unauthorized()
    if len(found) < len(data):
        missing = ", ".join(str(k) for k in data if k not in found)
        raise ApiError(400, {"error": f"Some assignments could not be found: ( {missing} )"})
    grades = {
        int(k): {str(u): (d if isinstance(d, dict) else {}) for u, d in v.items()} for k, v in data.items()
    }
    progress = call.sim.bulk_update(course.id, grades, grader_id=call.user.id)
    return Reply(200, s.progress_json(call.base, progress))


def show_progress(call: Call) -> Reply:
    progress = call.sim.progresses.get(int(call.args["progress_id"]))
    if progress is None:
        raise not_found()
    return Reply(200, s.progress_json(call.base, progress))


def show_user(call: Call) -> Reply:
    ref = call.args["user_id"]
    user = call.user if ref == "self" else call.sim.users.get(int(ref))
    if user is None:
        raise not_found()
    return Reply(200, s.user_json(user, email=call.admin or user.id == call.user.id))
