"""A Canvas school on the simulator, registered as a source, its Live Events handed to Edu
Vault's webhook route in-process (the test's own database transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from eduvault.integrations.canvas.simulator import CanvasSimulator
from eduvault.integrations.canvas.simulator.models import Assignment, Course, User
from eduvault.integrations.models import Source
from eduvault.integrations.services import source_add
from eduvault.pipeline.inbox.services import subject_process, subjects_due
from eduvault.pipeline.outbox.services import deliveries_run

TOKEN = "canvas-api-token"
SOURCE = "school"


@dataclass
class School:
    sim: CanvasSimulator
    source: Source
    course: Course
    teacher: User
    api_user: User
    students: list[User]
    quiz: Assignment
    essay: Assignment
    #: Live Events Canvas sent, waiting to be posted to Edu Vault (from the test's thread:
    #: Canvas emits them from its request threads, which must not write to the test's
    #: database).
    outbox: list[tuple[bytes, str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{SOURCE}:{self.course.id}"

    def post_events(self) -> list[int]:
        """Hand the Live Events Canvas sent to Edu Vault's webhook route; their statuses."""
        sent, self.outbox[:] = list(self.outbox), []
        return [
            Client().post(f"/api/v1/webhooks/{SOURCE}", data=body, content_type=content_type).status_code
            for body, content_type in sent
        ]

    def drain(self) -> int:
        """Post what Canvas sent, and process every pending inbound event (what a worker does)."""
        self.post_events()
        done = 0
        for _ in range(50):
            due = subjects_due()
            if not due:
                return done
            outcomes = [
                subject_process(source=Source.objects.get(pk=s.source_id), subject=s.subject, key=s.key)
                for s in due
            ]
            done += len(outcomes)
        raise AssertionError(f"the inbox did not drain: {outcomes}")

    def deliver(self) -> dict[str, int]:
        """Send every delivery that is due (what the deliverer does)."""
        totals: dict[str, int] = {}
        for _ in range(20):
            counts = deliveries_run(owner="test")
            if not counts:
                return totals
            for k, v in counts.items():
                totals[k] = totals.get(k, 0) + v
        return totals

    def puts(self) -> list[Any]:
        return [r for r in self.sim.requests if r.method in ("PUT", "POST") and "/submissions" in r.path]


def build_school(sim: CanvasSimulator) -> dict[str, Any]:
    teacher = sim.add_user("Tess Banda", login_id="tess", sis_user_id="T-1")
    api_user = sim.add_user("Edu Vault", login_id="eduvault-integration")
    sim.add_token(TOKEN, user_id=api_user.id)
    students = [
        sim.add_user("Amina Phiri", login_id="amina", sis_user_id="S-100", email="amina@school.mw"),
        sim.add_user("Chisomo Banda", login_id="chisomo", sis_user_id="S-101", email="chisomo@school.mw"),
        sim.add_user("Kondwani Mwale", login_id="kondwani", sis_user_id="S-102"),
    ]
    course = sim.add_course("Form 3 Mathematics", "MATH-F3", sis_course_id="2026-MATH-F3")
    sim.enroll(course.id, teacher.id, type="TeacherEnrollment")
    for student in students:
        sim.enroll(course.id, student.id)
    algebra = sim.add_module(course.id, "Algebra")
    quiz = sim.add_assignment(course.id, "Quadratics quiz", points_possible=10)
    essay = sim.add_assignment(course.id, "Proof essay", points_possible=20, grading_type="percent")
    sim.add_item(course.id, algebra.id, type="SubHeader", title="Week 1")
    sim.add_item(course.id, algebra.id, type="Assignment", content_id=quiz.id)
    sim.add_item(course.id, algebra.id, type="Assignment", content_id=essay.id)
    return {
        "course": course,
        "teacher": teacher,
        "api_user": api_user,
        "students": students,
        "quiz": quiz,
        "essay": essay,
    }


@pytest.fixture
def canvas() -> Iterator[CanvasSimulator]:
    with CanvasSimulator() as sim:
        yield sim


@pytest.fixture
def school(db, canvas, settings) -> School:
    settings.EDUVAULT_HIGH_WINDOW_SECONDS = 0
    parts = build_school(canvas)
    source = source_add(
        platform="canvas", name=SOURCE, base_url=canvas.base_url, token=TOKEN, jwks_url=canvas.jwks_url
    )
    users = get_user_model()
    for login in ("amina", "chisomo"):  # Edu Vault accounts with the same logins as in Canvas
        users.objects.create_user(username=login, password="x-" * 8)
    school = School(sim=canvas, source=source, **parts)

    def sink(body: bytes, content_type: str) -> int:
        school.outbox.append((body, content_type))
        return 202

    canvas.live_events.sink = sink
    return school
