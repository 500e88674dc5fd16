"""The REST endpoints for courses, modules, assignments, grading standards and rosters, and the routes.

Each answers as its canvas-lms controller does (instructure/canvas-lms ``app/controllers``):
``courses_controller.rb`` (index, show; users with ``enrollment_type[]``, ``enrollment_state[]``
defaulting to active and invited, ``include[]=email|enrollments``),
``context_modules_api_controller.rb`` and ``context_module_items_api_controller.rb``,
``assignments_api_controller.rb``, ``grading_standards_api_controller.rb`` and
``enrollments_api_controller.rb`` (``type[]``, ``state[]`` defaulting to active and invited).
Submissions, bulk grading and progress live in :mod:`.grades_api`. Errors: 404 ``{"errors":
[{"message": "The specified resource does not exist."}]}``; 401 ``{"status": "unauthorized",
"errors": [{"message": "user not authorized to perform that action"}]}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from eduvault.integrations.canvas.simulator import serialize as s
from eduvault.integrations.canvas.simulator.grades_api import (
    bulk_update,
    list_submissions,
    show_progress,
    show_submission,
    show_user,
    student_submissions,
    update_submission,
)
from eduvault.integrations.canvas.simulator.models import SHORT_ENROLLMENT_TYPES, Course, Module
from eduvault.integrations.canvas.simulator.pagination import as_list, first
from eduvault.integrations.canvas.simulator.rest import Call, Reply, not_found, paged, unauthorized

# -- courses -----------------------------------------------------------------------------------


def list_courses(call: Call) -> Reply:
    states = as_list(call.query.get("enrollment_state")) or ["active", "invited"]
    courses = []
    for course in sorted(call.sim.courses.values(), key=lambda c: c.id):
        mine = [
            e
            for e in course.enrollments.values()
            if e.user_id == call.user.id and e.enrollment_state in states
        ]
        if mine and course.workflow_state != "deleted":
            courses.append((course, mine))
    page = call.page(courses, "/api/v1/courses")
    return paged(page, [s.course_json(call.base, c, mine) for c, mine in page.items])


def account_courses(call: Call) -> Reply:
    if not call.admin:
        raise unauthorized()
    account = call.args["account_id"]
    courses = [
        c
        for c in sorted(call.sim.courses.values(), key=lambda c: c.id)
        if c.workflow_state != "deleted" and (account == "self" or str(c.account_id) == account)
    ]
    page = call.page(courses, f"/api/v1/accounts/{account}/courses")
    return paged(page, [s.course_json(call.base, c) for c in page.items])


def show_course(call: Call) -> Reply:
    course = call.course()
    mine = [
        e
        for e in course.enrollments.values()
        if e.user_id == call.user.id and e.enrollment_state != "deleted"
    ]
    return Reply(200, s.course_json(call.base, course, mine))


# -- modules and items ----------------------------------------------------------------------------


def _modules(call: Call, course: Course) -> list[Module]:
    teacher = call.grader(course)
    return [m for m in course.visible_modules() if teacher or m.published]


def _module(call: Call, course: Course) -> Module:
    module_id = int(call.args["module_id"])
    for mod in _modules(call, course):
        if mod.id == module_id:
            return mod
    raise not_found()


def _items(call: Call, course: Course, mod: Module, details: bool) -> list[dict[str, Any]]:
    teacher = call.grader(course)
    out = []
    for item in mod.visible_items():
        if teacher or item.workflow_state == "active":
            target = course.assignments.get(item.content_id or -1) if item.type == "Assignment" else None
            out.append(s.item_json(call.base, course.id, item, target, details))
    return out


def list_modules(call: Call) -> Reply:
    course = call.course()
    includes = call.includes()
    page = call.page(_modules(call, course), f"/api/v1/courses/{course.id}/modules")
    body = []
    for mod in page.items:
        items = _items(call, course, mod, "content_details" in includes)
        inline = "items" in includes and len(items) <= call.sim.module_items_inline_max
        body.append(s.module_json(call.base, mod, items, len(items), inline))
    return paged(page, body)


def show_module(call: Call) -> Reply:
    course = call.course()
    mod = _module(call, course)
    includes = call.includes()
    items = _items(call, course, mod, "content_details" in includes)
    inline = "items" in includes and len(items) <= call.sim.module_items_inline_max
    return Reply(200, s.module_json(call.base, mod, items, len(items), inline))


def list_items(call: Call) -> Reply:
    course = call.course()
    mod = _module(call, course)
    items = _items(call, course, mod, "content_details" in call.includes())
    page = call.page(items, f"/api/v1/courses/{course.id}/modules/{mod.id}/items")
    return paged(page, page.items)


def show_item(call: Call) -> Reply:
    course = call.course()
    mod = _module(call, course)
    for item in _items(call, course, mod, "content_details" in call.includes()):
        if item["id"] == int(call.args["item_id"]):
            return Reply(200, item)
    raise not_found()


# -- assignments and grading standards --------------------------------------------------------------


def _assignments(call: Call, course: Course) -> list[Any]:
    teacher = call.grader(course)
    return [a for a in course.active_assignments() if teacher or a.published]


def list_assignments(call: Call) -> Reply:
    course = call.course()
    page = call.page(_assignments(call, course), f"/api/v1/courses/{course.id}/assignments")
    return paged(page, [s.assignment_json(call.base, a) for a in page.items])


def show_assignment(call: Call) -> Reply:
    course = call.course()
    for assignment in _assignments(call, course):
        if assignment.id == int(call.args["assignment_id"]):
            return Reply(200, s.assignment_json(call.base, assignment))
    raise not_found()


def _standards(call: Call, course: Course | None, account: str | None) -> list[Any]:
    found = []
    for g in sorted(call.sim.grading_standards.values(), key=lambda g: g.id):
        if g.workflow_state == "deleted":
            continue
        if (course is not None and g.context_type == "Course" and g.context_id == course.id) or (
            g.context_type == "Account" and (account in (None, "self") or str(g.context_id) == account)
        ):
            found.append(g)
    return found


def course_grading_standards(call: Call) -> Reply:
    course = call.course()
    page = call.page(_standards(call, course, None), f"/api/v1/courses/{course.id}/grading_standards")
    return paged(page, [s.grading_standard_json(g) for g in page.items])


def show_grading_standard(call: Call) -> Reply:
    course = call.course()
    for g in _standards(call, course, None):
        if g.id == int(call.args["standard_id"]):
            return Reply(200, s.grading_standard_json(g))
    raise not_found()


def account_grading_standards(call: Call) -> Reply:
    account = call.args["account_id"]
    page = call.page(_standards(call, None, account), f"/api/v1/accounts/{account}/grading_standards")
    return paged(page, [s.grading_standard_json(g) for g in page.items])


# -- enrollments and users -------------------------------------------------------------------------


def list_enrollments(call: Call) -> Reply:
    course = call.course()
    types = as_list(call.query.get("type")) or None
    states = as_list(call.query.get("state")) or ["active", "invited"]
    if "current_and_invited" in states:
        states += ["active", "invited"]
    user_filter = first(call.query, "user_id")
    rows = [
        e
        for e in course.enrollments.values()
        if e.enrollment_state in states
        and (types is None or e.type in types)
        and (user_filter is None or str(e.user_id) == user_filter)
    ]
    rows.sort(key=lambda e: (e.type, call.sim.users[e.user_id].sortable_name, e.id))
    page = call.page(rows, f"/api/v1/courses/{course.id}/enrollments")
    body = [
        s.enrollment_json(call.base, e, call.sim.users[e.user_id], course, course.scores.get(e.user_id))
        for e in page.items
    ]
    return paged(page, body)


def list_users(call: Call) -> Reply:
    course = call.course()
    types = [SHORT_ENROLLMENT_TYPES.get(t, t) for t in as_list(call.query.get("enrollment_type"))] or None
    states = as_list(call.query.get("enrollment_state")) or ["active", "invited"]
    includes = call.includes()
    chosen: dict[int, list[Any]] = {}
    for e in sorted(course.enrollments.values(), key=lambda e: e.id):
        if e.enrollment_state in states and (types is None or e.type in types):
            chosen.setdefault(e.user_id, []).append(e)
    users = sorted((call.sim.users[uid] for uid in chosen), key=lambda u: (u.sortable_name, u.id))
    page = call.page(users, f"/api/v1/courses/{course.id}/users")
    body = []
    for user in page.items:
        row = s.user_json(user, email="email" in includes)
        if "enrollments" in includes:
            row["enrollments"] = [
                s.enrollment_json(call.base, e, None, course, course.scores.get(e.user_id))
                for e in chosen[user.id]
            ]
        body.append(row)
    return paged(page, body)


_C = r"/api/v1/courses/(?P<course_id>[^/]+)"
_A = _C + r"/assignments/(?P<assignment_id>\d+)"
ROUTES: list[tuple[str, re.Pattern[str], Callable[[Call], Reply]]] = [
    (method, re.compile(pattern + r"/?"), handler)
    for method, pattern, handler in [
        ("GET", r"/api/v1/courses", list_courses),
        ("GET", r"/api/v1/accounts/(?P<account_id>[^/]+)/courses", account_courses),
        ("GET", r"/api/v1/accounts/(?P<account_id>[^/]+)/grading_standards", account_grading_standards),
        ("GET", r"/api/v1/progress/(?P<progress_id>\d+)", show_progress),
        ("GET", r"/api/v1/users/(?P<user_id>self|\d+)", show_user),
        ("GET", _C, show_course),
        ("GET", _C + r"/modules", list_modules),
        ("GET", _C + r"/modules/(?P<module_id>\d+)", show_module),
        ("GET", _C + r"/modules/(?P<module_id>\d+)/items", list_items),
        ("GET", _C + r"/modules/(?P<module_id>\d+)/items/(?P<item_id>\d+)", show_item),
        ("GET", _C + r"/assignments", list_assignments),
        ("GET", _A, show_assignment),
        ("GET", _C + r"/grading_standards", course_grading_standards),
        ("GET", _C + r"/grading_standards/(?P<standard_id>\d+)", show_grading_standard),
        ("GET", _C + r"/enrollments", list_enrollments),
        ("GET", _C + r"/users", list_users),
        ("GET", _C + r"/students/submissions", student_submissions),
        ("GET", _A + r"/submissions", list_submissions),
        ("GET", _A + r"/submissions/(?P<user_id>self|\d+)", show_submission),
        ("PUT", _A + r"/submissions/(?P<user_id>self|\d+)", update_submission),
        ("POST", _C + r"/submissions/update_grades", bulk_update),
        ("POST", _A + r"/submissions/update_grades", bulk_update),
    ]
]


def route(method: str, path: str) -> tuple[Callable[[Call], Reply], dict[str, str]] | None:
    for verb, pattern, handler in ROUTES:
        if verb == method and (match := pattern.fullmatch(path)):
            return handler, match.groupdict()
    return None
