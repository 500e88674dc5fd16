"""The demo's second part: a Canvas course (its simulator), learner records both ways.

A Canvas course is synced with its enrollments (people matched by login; one that matches
nobody held for an operator), a teacher's grade in Canvas arrives as a signed Live Event and
enters the feed, and the practice assessment of the first part is linked to a Canvas
assignment: the learner's Edu Vault grade is written to Canvas's gradebook, once.
"""

from __future__ import annotations

import secrets
from typing import Any

from rich.rule import Rule
from rich.table import Table

from eduvault.cli.demo_forum import ForumDemo
from eduvault.identity.models import Identity
from eduvault.integrations.canvas.simulator import CanvasSimulator
from eduvault.integrations.models import Source
from eduvault.integrations.services import source_add, source_disable, source_point_to
from eduvault.learning.assessments.models import Assessment
from eduvault.learning.assessments.services import assessment_link
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.inbox.services import event_receive, subject_process, subjects_due
from eduvault.pipeline.outbox.services import deliveries_run
from eduvault.pipeline.records.models import Enrollment, Record
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.render import run_line
from eduvault.pipeline.sync.services import course_sync

SOURCE_NAME = "demo-canvas"


class CanvasDemo:
    def __init__(self, console: Any, err: Any) -> None:
        self.console, self.err = console, err
        self.events: list[tuple[bytes, str]] = []

    def run(self, *, learner: str, assessment: Assessment) -> None:
        out = self.console
        # Another run of the demo against this database gets Canvas ids of its own.
        runs = Identity.objects.filter(realm=SOURCE_NAME).count()
        with CanvasSimulator(id_offset=100_000 * runs) as canvas:
            token = secrets.token_urlsafe(24)
            world = _school(canvas, token, learner)
            canvas.live_events.sink = self._keep  # delivered below, from this thread
            source = _demo_source(canvas, token)
            out.print(Rule("Canvas: a course and its people"))
            out.print(
                f"A Canvas simulator is listening on {canvas.base_url}; source {SOURCE_NAME!r} reads it with an "
                "API token (sealed at rest) and verifies its signed Live Events against its JWKS.",
                markup=False,
            )
            key = f"{SOURCE_NAME}:{world['course'].id}"
            with self.err.status("syncing the Canvas course", spinner="dots"):
                run = course_sync(course_key=key, source=source, trigger=SyncRun.Trigger.DEMO, actor="demo")
            out.print(run_line(run))
            self._people(run.course)

            out.print(Rule("Canvas → Edu Vault: a teacher grades"))
            student = world["students"][0]
            canvas.grade(world["course"].id, world["quiz"].id, student.id, "7", grader_id=world["teacher"].id)
            self._deliver_events()
            record = Record.objects.get(
                kind="grade",
                key=f"{key}/assignment:{world['quiz'].id}",
                person__identities__external_id=str(student.id),
            )
            entry = FeedEntry.objects.filter(kind="grade", external_id=f"record:{record.pk}").latest("cursor")
            out.print(
                f"The teacher gave {learner} 7 of 10 on {world['quiz'].name!r} in Canvas; the signed Live Event became "
                f"record {record.pk} ({record.fields['score']:g}/{record.fields['max']:g}, owned by Canvas) and entered "
                f"the feed at cursor {entry.cursor}, priority {entry.priority}.",
                markup=False,
            )

            out.print(Rule("Edu Vault → Canvas: an assessment's grades go to the gradebook"))
            link = assessment_link(
                assessment_id=assessment.pk,
                source_name=SOURCE_NAME,
                course_id=str(world["course"].id),
                assignment_id=str(world["practice"].id),
                actor="demo",
            )
            sent = deliveries_run(owner="demo")
            self._deliver_events()  # Canvas's own event about our write: an acknowledgement
            submission = canvas.submission(world["course"].id, world["practice"].id, student.id)
            ours = Record.objects.get(
                kind="grade", key=link.key, person__identities__external_id=str(student.id)
            )
            out.print(
                f"Linked {assessment.title!r} to the Canvas assignment {world['practice'].name!r}: {learner}'s grade "
                f"({ours.fields['score']:g} of {ours.fields['max']:g}) was written to Canvas once "
                f"({sum(sent.values())} delivery): the gradebook shows {submission.score:g} of "
                f"{world['practice'].points_possible:g} points.",
                markup=False,
            )
            ForumDemo(self.console, self.err, process=self._deliver_events).run(
                canvas=canvas, world=world, course_key=key, canvas_source=SOURCE_NAME
            )
        source_disable(
            name=SOURCE_NAME,
            reason="the demo's Canvas simulator has stopped; 'eduvault demo' starts it again",
        )

    def _keep(self, body: bytes, content_type: str) -> int:
        self.events.append((body, content_type))
        return 202

    def _deliver_events(self) -> None:
        """Hand Canvas's Live Events to the webhook intake, then process them (a worker's job)."""
        waiting, self.events = self.events, []
        for body, content_type in waiting:
            event_receive(source_name=SOURCE_NAME, body=body, headers={"Content-Type": content_type})
        for _ in range(10):
            due = subjects_due()
            if not due:
                return
            for subject in due:
                subject_process(
                    source=Source.objects.get(pk=subject.source_id), subject=subject.subject, key=subject.key
                )

    def _people(self, course: Any) -> None:
        table = Table(header_style="bold", title="Who is in the Canvas course", title_justify="left")
        for column in ("Canvas user", "login", "Edu Vault", "how"):
            table.add_column(column)
        for identity in Identity.objects.filter(realm=SOURCE_NAME).order_by("pk"):
            if identity.person_id:
                who, how = identity.person.name, f"matched by {identity.matched_by.replace('_', ' ')}"
            else:
                who, how = "[yellow]held for an operator[/yellow]", identity.held_reason
            table.add_row(identity.name, identity.login or "—", who, how)
        self.console.print(table)
        enrolled = Enrollment.objects.filter(course=course).count()
        self.console.print(
            f"{enrolled} enrollment(s) of known people; see 'eduvault people held' to link the others.",
            markup=False,
        )


def _school(canvas: CanvasSimulator, token: str, learner: str) -> dict[str, Any]:
    api = canvas.add_user("Edu Vault", login_id="eduvault-integration")
    canvas.add_token(token, user_id=api.id)
    teacher = canvas.add_user("Tiyamike Banda", login_id="tiyamike", sis_user_id="T-7")
    students = [
        # SIS ids of this run's own (an earlier run's people keep theirs).
        canvas.add_user(
            "Tamanda Phiri", login_id=learner, sis_user_id=f"S-{learner.upper()}", email=f"{learner}@school.mw"
        ),
        canvas.add_user("Kondwani Mwale", login_id="kondwani", sis_user_id=f"S-K-{learner.upper()}"),
    ]
    course = canvas.add_course("Form 3 Mathematics", "MATH-F3", sis_course_id="2026-MATH-F3")
    canvas.enroll(course.id, teacher.id, type="TeacherEnrollment")
    for student in students:
        canvas.enroll(course.id, student.id)
    module = canvas.add_module(course.id, "Algebra")
    quiz = canvas.add_assignment(course.id, "Quadratics quiz", points_possible=10)
    practice = canvas.add_assignment(course.id, "Quadratics practice (Edu Vault)", points_possible=20)
    canvas.add_item(course.id, module.id, type="SubHeader", title="Week 1")
    canvas.add_item(course.id, module.id, type="Assignment", content_id=quiz.id)
    canvas.add_item(course.id, module.id, type="Assignment", content_id=practice.id)
    return {"course": course, "teacher": teacher, "students": students, "quiz": quiz, "practice": practice}


def _demo_source(canvas: CanvasSimulator, token: str) -> Source:
    if Source.objects.filter(name=SOURCE_NAME).exists():
        source = source_point_to(
            name=SOURCE_NAME, base_url=canvas.base_url, token=token, jwks_url=canvas.jwks_url
        )
        return source
    return source_add(
        platform="canvas", name=SOURCE_NAME, base_url=canvas.base_url, token=token, jwks_url=canvas.jwks_url
    )
