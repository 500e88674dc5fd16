"""The simulator's records: plain objects holding what Canvas keeps in its tables.

Field names follow Canvas's columns and API fields (users, courses, context_modules,
content_tags (module items), assignments, enrollments, submissions, grading_standards,
progresses). Ids are local integers; :mod:`.live_events` turns them into the string and
global forms Live Events carry.
"""

from __future__ import annotations

import secrets
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ITEM_TYPES = ("File", "Page", "Discussion", "Assignment", "Quiz", "SubHeader", "ExternalUrl", "ExternalTool")
ENROLLMENT_TYPES = (
    "StudentEnrollment",
    "TeacherEnrollment",
    "TaEnrollment",
    "ObserverEnrollment",
    "DesignerEnrollment",
)
ENROLLMENT_STATES = ("active", "invited", "inactive", "completed", "deleted", "creation_pending", "rejected")
SUBMISSION_STATES = ("unsubmitted", "submitted", "graded", "pending_review")
#: ``enrollment_type[]`` on the users endpoint names types by their short form.
SHORT_ENROLLMENT_TYPES = {
    "student": "StudentEnrollment",
    "teacher": "TeacherEnrollment",
    "ta": "TaEnrollment",
    "observer": "ObserverEnrollment",
    "designer": "DesignerEnrollment",
    "student_view": "StudentViewEnrollment",
}


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """REST timestamps: seconds, UTC, ``Z`` (``2012-01-02T03:05:34Z``)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(moment: datetime) -> str:
    """Live Events ``event_time``: ISO-8601, millisecond precision, UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def canvas_uuid() -> str:
    """Canvas's ``CanvasSlug.generate_securish_uuid``: 40 alphanumerics."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(40))


@dataclass
class User:
    id: int
    name: str
    sortable_name: str
    short_name: str
    login_id: str | None = None
    sis_user_id: str | None = None
    email: str | None = None
    created_at: datetime = field(default_factory=now)


@dataclass
class GradingStandard:
    id: int
    title: str
    grading_scheme: list[tuple[str, float]]
    context_type: str = "Course"
    context_id: int = 0
    workflow_state: str = "active"


@dataclass
class ModuleItem:
    id: int
    module_id: int
    position: int
    title: str
    type: str
    indent: int = 0
    content_id: int | None = None
    page_url: str | None = None
    external_url: str | None = None
    new_tab: bool = False
    completion_requirement: dict[str, Any] | None = None
    workflow_state: str = "active"  # active | unpublished | deleted
    # content_details for content the simulator does not model (files, pages, quizzes, …)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Module:
    id: int
    course_id: int
    name: str
    position: int
    workflow_state: str = "active"  # active | unpublished | deleted
    unlock_at: datetime | None = None
    require_sequential_progress: bool = False
    prerequisite_module_ids: list[int] = field(default_factory=list)
    publish_final_grade: bool = False
    items: list[ModuleItem] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return self.workflow_state == "active"

    def visible_items(self) -> list[ModuleItem]:
        return sorted(
            (i for i in self.items if i.workflow_state != "deleted"), key=lambda i: (i.position, i.id)
        )


@dataclass
class Assignment:
    id: int
    course_id: int
    name: str
    assignment_group_id: int
    position: int
    points_possible: float | None = None
    grading_type: str = "points"
    grading_standard_id: int | None = None
    description: str | None = None
    due_at: datetime | None = None
    unlock_at: datetime | None = None
    lock_at: datetime | None = None
    workflow_state: str = "published"  # published | unpublished | deleted
    submission_types: list[str] = field(default_factory=lambda: ["online_text_entry"])
    post_manually: bool = False
    lti_assignment_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def published(self) -> bool:
        return self.workflow_state == "published"


@dataclass
class Enrollment:
    id: int
    user_id: int
    course_id: int
    type: str
    course_section_id: int
    role: str = ""
    enrollment_state: str = "active"
    associated_user_id: int | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        self.role = self.role or self.type


@dataclass
class Submission:
    id: int
    assignment_id: int
    user_id: int
    score: float | None = None
    grade: str | None = None
    graded_at: datetime | None = None
    grader_id: int | None = None
    workflow_state: str = "unsubmitted"
    submitted_at: datetime | None = None
    submission_type: str | None = None
    body: str | None = None
    url: str | None = None
    attempt: int | None = None
    late: bool = False
    missing: bool = False
    excused: bool = False
    posted_at: datetime | None = None
    grade_matches_current_submission: bool = True
    updated_at: datetime = field(default_factory=now)

    @property
    def entered_score(self) -> float | None:
        return self.score  # no late policy is simulated: what was entered is what counts

    @property
    def entered_grade(self) -> str | None:
        return self.grade


@dataclass
class Scores:
    """A student's course scores (Canvas's ``scores`` row for the enrollment)."""

    current_score: float | None = None
    final_score: float | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class Course:
    id: int
    name: str
    course_code: str
    uuid: str
    account_id: int
    root_account_id: int
    assignment_group_id: int
    section_id: int
    workflow_state: str = "available"  # unpublished | available | completed | deleted
    sis_course_id: str | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    default_view: str = "modules"
    grading_standard_id: int | None = None
    time_zone: str = "UTC"
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    modules: dict[int, Module] = field(default_factory=dict)
    assignments: dict[int, Assignment] = field(default_factory=dict)
    enrollments: dict[int, Enrollment] = field(default_factory=dict)
    # (assignment_id, user_id) -> submission
    submissions: dict[tuple[int, int], Submission] = field(default_factory=dict)
    scores: dict[int, Scores] = field(default_factory=dict)

    def visible_modules(self) -> list[Module]:
        mods = (m for m in self.modules.values() if m.workflow_state != "deleted")
        return sorted(mods, key=lambda m: (m.position, m.id))

    def active_assignments(self) -> list[Assignment]:
        live = (a for a in self.assignments.values() if a.workflow_state != "deleted")
        return sorted(live, key=lambda a: (a.position, a.id))

    def student_enrollments(self, states: tuple[str, ...] = ("active", "invited")) -> list[Enrollment]:
        return [
            e
            for e in self.enrollments.values()
            if e.type == "StudentEnrollment" and e.enrollment_state in states
        ]

    def enrollment_of(self, user_id: int, types: tuple[str, ...] | None = None) -> Enrollment | None:
        for e in sorted(self.enrollments.values(), key=lambda e: e.id):
            if (
                e.user_id == user_id
                and e.enrollment_state != "deleted"
                and (types is None or e.type in types)
            ):
                return e
        return None


@dataclass
class Progress:
    id: int
    context_id: int
    tag: str
    context_type: str = "Course"
    user_id: int | None = None
    completion: float | None = None
    workflow_state: str = "queued"  # queued | running | completed | failed
    message: str | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
