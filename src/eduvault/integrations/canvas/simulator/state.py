"""The simulated Canvas's state, driven from Python as a teacher or author would in the UI.

:class:`CanvasState` gathers users, courses, grading standards and enrollments (here), modules
and items (:mod:`.content`), and assignments, submissions and grades (:mod:`.gradebook`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eduvault.integrations.canvas.simulator import bodies
from eduvault.integrations.canvas.simulator.content import Content
from eduvault.integrations.canvas.simulator.gradebook import Gradebook
from eduvault.integrations.canvas.simulator.models import (
    ENROLLMENT_STATES,
    ENROLLMENT_TYPES,
    Course,
    Enrollment,
    GradingStandard,
    Scores,
    User,
    canvas_uuid,
    now,
    parse_time,
)


class CanvasState(Content, Gradebook):
    # -- users, courses, grading standards -------------------------------------------------------

    def add_user(
        self,
        name: str,
        *,
        sortable_name: str | None = None,
        short_name: str | None = None,
        login_id: str | None = None,
        sis_user_id: str | None = None,
        email: str | None = None,
    ) -> User:
        if sortable_name is None:
            first, _, last = name.rpartition(" ")
            sortable_name = f"{last}, {first}" if first else name
        with self.lock:
            user_id = self._next_id("user")
            while user_id in self.users:  # skip ids taken by add_token(user_id=…)
                user_id = self._next_id("user")
            user = User(user_id, name, sortable_name, short_name or name, login_id, sis_user_id, email)
            self.users[user.id] = user
        return user

    def add_course(
        self,
        name: str,
        course_code: str | None = None,
        *,
        sis_course_id: str | None = None,
        workflow_state: str = "available",
        start_at: str | datetime | None = None,
        end_at: str | datetime | None = None,
        default_view: str = "modules",
        grading_standard_id: int | None = None,
        account_id: int = 1,
        actor_id: int | None = None,
    ) -> Course:
        with self.lock:
            course = Course(
                id=self._next_id("course"),
                name=name,
                course_code=course_code or name,
                uuid=canvas_uuid(),
                account_id=account_id,
                root_account_id=self.root_account_id,
                assignment_group_id=self._next_id("assignment_group"),
                section_id=self._next_id("section"),
                workflow_state=workflow_state,
                sis_course_id=sis_course_id,
                start_at=parse_time(start_at),
                end_at=parse_time(end_at),
                default_view=default_view,
                grading_standard_id=grading_standard_id,
            )
            self.courses[course.id] = course
        with self._change(course, actor_id) as emit:
            emit("course_created", bodies.course(course))
        return course

    def update_course(self, course_id: int, *, actor_id: int | None = None, **fields: Any) -> Course:
        course = self.course(course_id)
        with self._change(course, actor_id) as emit:
            for key, value in fields.items():
                if key in ("start_at", "end_at"):
                    value = parse_time(value)
                if not hasattr(course, key) or key in ("id", "modules", "assignments", "enrollments"):
                    raise AttributeError(key)
                setattr(course, key, value)
            course.updated_at = now()
            emit("course_updated", bodies.course(course))
        return course

    def add_grading_standard(
        self,
        title: str,
        grading_scheme: list[dict[str, Any]] | list[tuple[str, float]],
        *,
        course_id: int | None = None,
        account_id: int | None = None,
    ) -> GradingStandard:
        """A grading scheme (``{"name": "A", "value": 0.94}`` rows) in a course, else the account."""
        rows = [
            (r["name"], float(r["value"])) if isinstance(r, dict) else (r[0], float(r[1]))
            for r in grading_scheme
        ]
        if not any(abs(v) < 1e-9 for _, v in rows):
            raise ValueError("grading schemes must have 0% for the lowest grade")
        context = ("Course", int(course_id)) if course_id is not None else ("Account", account_id or 1)
        with self.lock:
            standard = GradingStandard(self._next_id("grading_standard"), title, rows, *context)
            self.grading_standards[standard.id] = standard
        return standard

    # -- enrollments ----------------------------------------------------------------------------

    def enroll(
        self,
        course_id: int,
        user_id: int,
        type: str = "StudentEnrollment",
        *,
        enrollment_state: str = "active",
        role: str | None = None,
        associated_user_id: int | None = None,
        actor_id: int | None = None,
    ) -> Enrollment:
        if type not in ENROLLMENT_TYPES:
            raise ValueError(f"type must be one of {ENROLLMENT_TYPES}")
        course, user = self.course(course_id), self.user(user_id)
        with self._change(course, actor_id) as emit:
            enrollment = Enrollment(
                self._next_id("enrollment"),
                user.id,
                course.id,
                type,
                course.section_id,
                role or type,
                enrollment_state,
                associated_user_id,
            )
            course.enrollments[enrollment.id] = enrollment
            if type == "StudentEnrollment":
                course.scores.setdefault(user.id, Scores())
                for assignment in course.assignments.values():
                    self._placeholder(course, assignment, user.id)
            emit("enrollment_created", bodies.enrollment(enrollment, user))
        return enrollment

    def update_enrollment(
        self, course_id: int, enrollment_id: int, enrollment_state: str, *, actor_id: int | None = None
    ) -> Enrollment:
        if enrollment_state not in ENROLLMENT_STATES:
            raise ValueError(f"enrollment_state must be one of {ENROLLMENT_STATES}")
        course = self.course(course_id)
        enrollment = course.enrollments[int(enrollment_id)]
        with self._change(course, actor_id) as emit:
            if enrollment.enrollment_state != enrollment_state:
                enrollment.enrollment_state = enrollment_state
                enrollment.updated_at = now()
                emit("enrollment_updated", bodies.enrollment(enrollment, self.users[enrollment.user_id]))
        return enrollment
