"""The core of the simulated Canvas's state: ids, the lock, lookups, and how changes emit events.

Every change emits the Live Event(s) Canvas emits for it (see :mod:`.bodies`), built under the
state lock and delivered after it is released, so a receiver may call back into the REST API
while it handles the event. Events from a background job (bulk grading) carry job metadata
(``job_id``, ``job_tag``) and no user, request or context fields, as Canvas's system events do.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from eduvault.integrations.canvas.simulator.live_events import global_id
from eduvault.integrations.canvas.simulator.models import (
    Assignment,
    Course,
    GradingStandard,
    Module,
    ModuleItem,
    Progress,
    Submission,
    User,
    canvas_uuid,
    iso_ms,
    now,
)

Emit = Callable[[str, dict[str, Any]], None]

_ID_STARTS = {
    "user": 1,
    "course": 100,
    "section": 150,
    "assignment_group": 170,
    "grading_standard": 10,
    "assignment": 300,
    "enrollment": 700,
    "module": 1000,
    "item": 5000,
    "submission": 9000,
    "progress": 1,
    "job": 1020020528469000,
}


class StateCore:
    def __init__(
        self,
        *,
        shard_id: int,
        hostname: str,
        deliver: Callable[[dict[str, Any]], None],
        bulk_delay: float = 0.05,
        id_offset: int = 0,
    ) -> None:
        self.shard_id = shard_id
        self.hostname = hostname
        self.root_account_id = 1
        self.root_account_uuid = canvas_uuid()
        self.users: dict[int, User] = {}
        self.courses: dict[int, Course] = {}
        self.grading_standards: dict[int, GradingStandard] = {}
        self.lock = threading.RLock()
        self._deliver = deliver
        #: ``id_offset`` moves every id (a second simulated school, or another run of the demo
        #: against the same database, gets ids of its own).
        self._ids = {kind: itertools.count(start + id_offset) for kind, start in _ID_STARTS.items()}
        self._ctx = threading.local()
        #: Bulk grade updates (``submissions_update`` progresses), by id.
        self.progresses: dict[int, Progress] = {}
        #: When each (course_id, user_id) completed its course.
        self.completions: dict[tuple[int, int], datetime] = {}
        #: How long a bulk grade update stays queued, then running, before it is done (seconds).
        self.bulk_delay = bulk_delay

    def _next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    # -- events -----------------------------------------------------------------------------

    @contextmanager
    def _change(self, course: Course | None, actor_id: int | None = None) -> Iterator[Emit]:
        """Make a change under the lock, then deliver the events it emitted (outside the lock)."""
        pending: list[tuple[str, dict[str, Any]]] = []
        with self.lock:
            yield lambda name, body: pending.append((name, body))
            request_id = str(uuid.uuid4())
            events = [
                {"metadata": self._metadata(name, course, actor_id, request_id), "body": body}
                for name, body in pending
            ]
        for event in events:
            self._deliver(event)

    def _actor(self, course: Course | None, actor_id: int | None) -> User | None:
        actor_id = actor_id if actor_id is not None else getattr(self._ctx, "actor_id", None)
        if actor_id is None and course is not None:
            teacher = next(
                (
                    e
                    for e in sorted(course.enrollments.values(), key=lambda e: e.id)
                    if e.type == "TeacherEnrollment"
                ),
                None,
            )
            actor_id = teacher.user_id if teacher else None
        return self.users.get(actor_id) if actor_id is not None else None

    def _metadata(
        self, name: str, course: Course | None, actor_id: int | None, request_id: str
    ) -> dict[str, Any]:
        def gid(local: int | None) -> str | None:
            return global_id(self.shard_id, local)

        meta: dict[str, Any] = {
            "event_name": name,
            "event_time": iso_ms(now()),
            "root_account_id": gid(self.root_account_id),
            "root_account_uuid": self.root_account_uuid,
            "root_account_lti_guid": f"{self.root_account_uuid}.{self.hostname}",
            "producer": "canvas",
        }
        job = getattr(self._ctx, "job", None)
        if job:
            # A job's event has no request or user, but events that Canvas posts with
            # ``amended_context(course)`` (grade_change) still name their course
            # (canvas-lms lib/canvas/live_events.rb).
            meta.update(job)
            if course is not None:
                meta.update(
                    context_type="Course",
                    context_id=gid(course.id),
                    context_account_id=gid(course.account_id),
                    context_sis_source_id=course.sis_course_id,
                )
            return meta
        actor = self._actor(course, actor_id)
        if actor is not None:
            meta.update(
                user_id=gid(actor.id),
                user_login=actor.login_id,
                user_sis_id=actor.sis_user_id,
                user_account_id=gid(self.root_account_id),
            )
        if course is not None:
            meta.update(
                context_type="Course",
                context_id=gid(course.id),
                context_account_id=gid(course.account_id),
                context_sis_source_id=course.sis_course_id,
            )
            role = course.enrollment_of(actor.id) if actor is not None else None
            if role is not None:
                meta["context_role"] = role.type
        meta["hostname"] = self.hostname
        meta["request_id"] = request_id
        meta.update(getattr(self._ctx, "request", None) or {})
        return meta

    @contextmanager
    def acting(self, *, actor_id: int | None = None, request: dict[str, Any] | None = None) -> Iterator[None]:
        """Within the block, events name ``actor_id`` and carry ``request`` metadata (REST writes)."""
        saved = getattr(self._ctx, "actor_id", None), getattr(self._ctx, "request", None)
        self._ctx.actor_id, self._ctx.request = actor_id, request
        try:
            yield
        finally:
            self._ctx.actor_id, self._ctx.request = saved

    # -- lookups ----------------------------------------------------------------------------

    def course(self, course_id: int) -> Course:
        return self.courses[int(course_id)]

    def user(self, user_id: int) -> User:
        return self.users[int(user_id)]

    def module(self, course_id: int, module_id: int) -> Module:
        return self.course(course_id).modules[int(module_id)]

    def item(self, course_id: int, item_id: int) -> ModuleItem:
        for mod in self.course(course_id).modules.values():
            for item in mod.items:
                if item.id == int(item_id):
                    return item
        raise KeyError(item_id)

    def assignment(self, course_id: int, assignment_id: int) -> Assignment:
        return self.course(course_id).assignments[int(assignment_id)]

    def submission(self, course_id: int, assignment_id: int, user_id: int) -> Submission:
        return self.course(course_id).submissions[(int(assignment_id), int(user_id))]

    def find_course(self, ref: str) -> Course | None:
        """A course by id or ``sis_course_id:…``, as Canvas's ``api_find`` resolves ids."""
        if ref.startswith("sis_course_id:"):
            sis = ref.split(":", 1)[1]
            return next((c for c in self.courses.values() if c.sis_course_id == sis), None)
        return self.courses.get(int(ref)) if ref.isdigit() else None

    def _placeholder(self, course: Course, assignment: Assignment, user_id: int) -> Submission:
        """Canvas keeps an (unsubmitted) submission row for every student and assignment."""
        key = (assignment.id, user_id)
        if key not in course.submissions:
            course.submissions[key] = Submission(self._next_id("submission"), assignment.id, user_id)
        return course.submissions[key]
