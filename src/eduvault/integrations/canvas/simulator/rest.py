"""The REST layer's building blocks: a call (who asks what), a reply, and Canvas's error bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eduvault.integrations.canvas.simulator.models import Course, User
from eduvault.integrations.canvas.simulator.pagination import Page, as_list, paginate

if TYPE_CHECKING:
    from eduvault.integrations.canvas.simulator.server import CanvasSimulator

NOT_FOUND = {"errors": [{"message": "The specified resource does not exist."}]}
UNAUTHORIZED = {
    "status": "unauthorized",
    "errors": [{"message": "user not authorized to perform that action"}],
}
GRADERS = ("TeacherEnrollment", "TaEnrollment")


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def not_found() -> ApiError:
    return ApiError(404, NOT_FOUND)


def unauthorized() -> ApiError:
    return ApiError(401, UNAUTHORIZED)


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


@dataclass
class Call:
    sim: CanvasSimulator
    method: str
    query: dict[str, Any]
    params: dict[str, Any]
    user: User
    admin: bool
    args: dict[str, str]

    @property
    def base(self) -> str:
        return self.sim.base_url

    def includes(self) -> list[str]:
        return as_list(self.query.get("include"))

    def course(self) -> Course:
        course = self.sim.find_course(self.args["course_id"])
        if course is None or course.workflow_state == "deleted":
            raise not_found()
        if not self.admin and course.enrollment_of(self.user.id) is None:
            raise unauthorized()
        return course

    def grader(self, course: Course) -> bool:
        if self.admin:
            return True
        enrollment = course.enrollment_of(self.user.id, GRADERS)
        return enrollment is not None and enrollment.enrollment_state == "active"

    def page(self, items: list[Any], path: str) -> Page:
        return paginate(items, self.query, self.base + path, maximum=self.sim.max_per_page)


def paged(page: Page, body: list[Any]) -> Reply:
    return Reply(200, body, {"Link": page.link} if page.link else {})
