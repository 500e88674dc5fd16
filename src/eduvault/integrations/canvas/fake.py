"""An in-memory Canvas for unit tests: the REST client's answers held as Canvas-shaped dicts,
every call recorded, failures scripted. No HTTP (the simulator, ``simulator/``, is the
faithful one); the integration's own code (structure, records, grade writes) runs as is."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eduvault.integrations.canvas.integration import Canvas
from eduvault.kernel.errors import CourseNotFoundAtSource, EduVaultError


@dataclass
class FakeCanvas:
    """Canvas as REST answers: ``courses[id]`` is the course object; the rest keyed by course id."""

    courses: dict[str, dict[str, Any]] = field(default_factory=dict)
    modules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    assignments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    enrollments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: (course id, assignment id, user id) -> submission
    submissions: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    me: dict[str, Any] = field(default_factory=lambda: {"id": 1, "name": "Edu Vault"})
    #: (method, arguments) of every call, in order.
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    #: Raised, one per call, before answering (then the calls succeed again).
    failures: list[EduVaultError] = field(default_factory=list)

    @contextmanager
    def installed(self) -> Iterator[FakeCanvas]:
        """Every Canvas source talks to this fake while the block runs."""
        original = Canvas.client
        Canvas.client = lambda integration, attempts=None: _Client(self)  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            Canvas.client = original  # type: ignore[method-assign]

    def call(self, method: str, *args: Any) -> None:
        self.calls.append((method, args))
        if self.failures:
            raise self.failures.pop(0)

    def writes(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [c for c in self.calls if c[0] in ("put_grade", "update_grades")]


class _Client:
    """The :class:`CanvasClient` methods the integration uses, answered from the fake."""

    def __init__(self, fake: FakeCanvas) -> None:
        self.fake = fake

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        pass

    def _course(self, course_id: Any) -> str:
        key = str(course_id)
        if key not in self.fake.courses:
            raise CourseNotFoundAtSource(f"the fake Canvas has no course {key}")
        return key

    def self_user(self) -> dict[str, Any]:
        self.fake.call("self_user")
        return dict(self.fake.me)

    def courses(self) -> list[dict[str, Any]]:
        self.fake.call("courses")
        return list(self.fake.courses.values())

    def course(self, course_id: Any) -> dict[str, Any]:
        self.fake.call("course", str(course_id))
        return self.fake.courses[self._course(course_id)]

    def modules(self, course_id: Any) -> list[dict[str, Any]]:
        self.fake.call("modules", str(course_id))
        return self.fake.modules.get(self._course(course_id), [])

    def assignments(self, course_id: Any) -> list[dict[str, Any]]:
        self.fake.call("assignments", str(course_id))
        return self.fake.assignments.get(self._course(course_id), [])

    def assignment(self, course_id: Any, assignment_id: Any) -> dict[str, Any]:
        self.fake.call("assignment", str(course_id), str(assignment_id))
        for assignment in self.fake.assignments.get(self._course(course_id), []):
            if str(assignment["id"]) == str(assignment_id):
                return assignment
        raise CourseNotFoundAtSource(f"the fake Canvas has no assignment {assignment_id}")

    def grading_standards(self, course_id: Any) -> list[dict[str, Any]]:
        self.fake.call("grading_standards", str(course_id))
        return []

    def enrollments(self, course_id: Any, *, states: Iterable[str] | None = None) -> list[dict[str, Any]]:
        self.fake.call("enrollments", str(course_id))
        return self.fake.enrollments.get(self._course(course_id), [])

    def users(self, course_id: Any) -> list[dict[str, Any]]:
        self.fake.call("users", str(course_id))
        return self.fake.users.get(self._course(course_id), [])

    def submissions(self, course_id: Any, **_: Any) -> list[dict[str, Any]]:
        self.fake.call("submissions", str(course_id))
        key = self._course(course_id)
        return [s for (c, _, _), s in self.fake.submissions.items() if c == key]

    def put_grade(
        self, course_id: Any, assignment_id: Any, user_id: Any, posted_grade: Any
    ) -> dict[str, Any]:
        self.fake.call("put_grade", str(course_id), str(assignment_id), str(user_id), posted_grade)
        return self._grade(str(course_id), str(assignment_id), str(user_id), posted_grade)

    def update_grades(self, course_id: Any, grades: Mapping[Any, Mapping[Any, Any]]) -> dict[str, Any]:
        flat = {(str(a), str(u)): g for a, by_user in grades.items() for u, g in by_user.items()}
        self.fake.call("update_grades", str(course_id), tuple(sorted(flat.items())))
        for (assignment_id, user_id), grade in flat.items():
            self._grade(str(course_id), assignment_id, user_id, grade)
        return {
            "id": len(self.fake.calls),
            "workflow_state": "completed",
            "updated_at": "2026-11-30T10:00:00Z",
        }

    def wait_progress(self, progress: Any, **_: Any) -> dict[str, Any]:
        return progress if isinstance(progress, dict) else {"id": progress, "workflow_state": "completed"}

    def _grade(self, course_id: str, assignment_id: str, user_id: str, posted: Any) -> dict[str, Any]:
        text = "" if posted is None else str(posted)
        score = float(text) if text.replace(".", "", 1).isdigit() else None
        submission = self.fake.submissions.setdefault(
            (course_id, assignment_id, user_id),
            {"id": len(self.fake.submissions) + 1, "assignment_id": assignment_id, "user_id": user_id},
        )
        submission.update(
            score=score, grade=text or None, graded_at="2026-11-30T10:00:00Z", grader_id=self.fake.me["id"]
        )
        return submission
