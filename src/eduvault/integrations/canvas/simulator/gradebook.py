"""Assignments, submissions and grades: what a teacher does in the Gradebook and SpeedGrader.

Grading follows instructure/canvas-lms ``Assignment#grade_student`` / ``save_grade_to_submission``
(``app/models/assignment.rb``): the posted grade becomes a score and a grade string
(:mod:`.grading`); any grade un-excuses; a scored submission is ``graded``, gets ``graded_at``
and is posted at once unless the assignment posts manually. Writing the grade it already has
changes nothing and emits nothing. A change emits ``grade_change`` (old and new grade, score and
points possible) and ``submission_updated``, then ``course_grade_change`` when the student's
course scores move. Bulk updates run as Canvas's ``Submission.process_bulk_update`` job does
(``app/models/submission.rb``): in the background, behind a ``submissions_update`` Progress
that fails with "Couldn't find User(s) with API ids …" when some students are unknown.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from eduvault.integrations.canvas.simulator import bodies
from eduvault.integrations.canvas.simulator.core import Emit, StateCore
from eduvault.integrations.canvas.simulator.grading import (
    DEFAULT_SCHEME,
    GRADING_TYPES,
    GradeError,
    compute_grade_and_score,
    ruby_round,
    score_to_grade,
)
from eduvault.integrations.canvas.simulator.models import (
    Assignment,
    Course,
    Progress,
    Scores,
    Submission,
    now,
    parse_time,
)

_TIMES = ("due_at", "unlock_at", "lock_at")


class Gradebook(StateCore):
    def scheme_for(self, course: Course, assignment: Assignment) -> list[tuple[str, float]]:
        """``grading_standard_or_default``: the assignment's scheme, the course's, else Canvas's default."""
        for standard_id in (assignment.grading_standard_id, course.grading_standard_id):
            if standard_id is not None and standard_id in self.grading_standards:
                return self.grading_standards[standard_id].grading_scheme
        return list(DEFAULT_SCHEME)

    def student_enrollment(self, course: Course, user_id: int) -> bool:
        states = ("active", "invited", "inactive", "completed", "creation_pending")
        return any(e.user_id == int(user_id) for e in course.student_enrollments(states))

    # -- assignments ----------------------------------------------------------------------------

    def add_assignment(
        self,
        course_id: int,
        name: str,
        *,
        points_possible: float | None = None,
        grading_type: str = "points",
        grading_standard_id: int | None = None,
        description: str | None = None,
        due_at: str | datetime | None = None,
        unlock_at: str | datetime | None = None,
        lock_at: str | datetime | None = None,
        published: bool = True,
        submission_types: tuple[str, ...] | list[str] = ("online_text_entry",),
        position: int | None = None,
        post_manually: bool = False,
        actor_id: int | None = None,
    ) -> Assignment:
        if grading_type not in GRADING_TYPES:
            raise ValueError(f"grading_type must be one of {GRADING_TYPES}")
        course = self.course(course_id)
        with self._change(course, actor_id) as emit:
            live = course.active_assignments()
            assignment = Assignment(
                id=self._next_id("assignment"),
                course_id=course.id,
                name=name,
                assignment_group_id=course.assignment_group_id,
                position=position or (max((a.position for a in live), default=0) + 1),
                points_possible=None if points_possible is None else float(points_possible),
                grading_type=grading_type,
                grading_standard_id=grading_standard_id,
                description=description,
                due_at=parse_time(due_at),
                unlock_at=parse_time(unlock_at),
                lock_at=parse_time(lock_at),
                workflow_state="published" if published else "unpublished",
                submission_types=list(submission_types),
                post_manually=post_manually,
            )
            course.assignments[assignment.id] = assignment
            for enrollment in course.student_enrollments(("active", "invited", "inactive", "completed")):
                self._placeholder(course, assignment, enrollment.user_id)
            emit("assignment_created", bodies.assignment(course, assignment, self.hostname))
            self._rescore(course, emit)
        return assignment

    def update_assignment(
        self, course_id: int, assignment_id: int, *, actor_id: int | None = None, **fields: Any
    ) -> Assignment:
        """Edit an assignment; a new points possible or grading type regrades graded submissions."""
        course = self.course(course_id)
        assignment = course.assignments[int(assignment_id)]
        with self._change(course, actor_id) as emit:
            old_points, old_type = assignment.points_possible, assignment.grading_type
            for key, value in fields.items():
                if key == "published":
                    key, value = "workflow_state", "published" if value else "unpublished"
                elif key in _TIMES:
                    value = parse_time(value)
                elif key == "points_possible" and value is not None:
                    value = float(value)
                if not hasattr(assignment, key) or key in ("id", "course_id"):
                    raise AttributeError(key)
                setattr(assignment, key, value)
            assignment.updated_at = now()
            emit("assignment_updated", bodies.assignment(course, assignment, self.hostname))
            if (assignment.points_possible, assignment.grading_type) != (old_points, old_type):
                self._regrade(course, assignment, old_points, emit)
            self._rescore(course, emit)
        return assignment

    def _regrade(self, course: Course, assignment: Assignment, old_points: float | None, emit: Emit) -> None:
        scheme = self.scheme_for(course, assignment)
        for (assignment_id, user_id), sub in sorted(course.submissions.items()):
            if assignment_id != assignment.id or sub.score is None:
                continue
            old_grade = sub.grade
            sub.grade = score_to_grade(
                assignment.grading_type, assignment.points_possible, scheme, sub.score, sub.grade
            )
            sub.updated_at = now()
            student = self.users[user_id]
            emit(
                "grade_change",
                bodies.grade_change(
                    sub,
                    assignment,
                    student,
                    old_grade=old_grade,
                    old_score=sub.score,
                    old_points_possible=old_points,
                ),
            )

    # -- submissions and grades -------------------------------------------------------------------

    def submit(
        self,
        course_id: int,
        assignment_id: int,
        user_id: int,
        *,
        body: str | None = None,
        url: str | None = None,
        submission_type: str | None = None,
        submitted_at: str | datetime | None = None,
    ) -> Submission:
        """The student turns the assignment in (or again: a new attempt)."""
        course = self.course(course_id)
        assignment = course.assignments[int(assignment_id)]
        if not self.student_enrollment(course, user_id):
            raise LookupError(f"user {user_id} is not a student of course {course.id}")
        with self._change(course, int(user_id)) as emit:
            sub = self._placeholder(course, assignment, int(user_id))
            sub.submission_type = submission_type or ("online_url" if url else "online_text_entry")
            sub.body, sub.url = body, url
            sub.submitted_at = parse_time(submitted_at) or now()
            sub.attempt = (sub.attempt or 0) + 1
            sub.grade_matches_current_submission = sub.score is None
            sub.workflow_state = "submitted"
            sub.late = assignment.due_at is not None and sub.submitted_at > assignment.due_at
            sub.missing = False
            sub.updated_at = now()
            emit("submission_created", bodies.submission(sub, assignment))
        return sub

    def grade(
        self,
        course_id: int,
        assignment_id: int,
        user_id: int,
        posted_grade: str | float | None = None,
        *,
        grader_id: int | None = None,
        excuse: bool | None = None,
    ) -> Submission:
        """Grade as the REST write does (``submission[posted_grade]``); raises GradeError if impossible."""
        course = self.course(course_id)
        assignment = course.assignments[int(assignment_id)]
        if not self.student_enrollment(course, user_id):
            raise LookupError(f"user {user_id} is not a student of course {course.id}")
        posted = None if posted_grade is None else str(posted_grade)
        with self._change(course, grader_id) as emit:
            return self._apply_grade(course, assignment, int(user_id), posted, grader_id, excuse, emit)

    def _apply_grade(
        self,
        course: Course,
        assignment: Assignment,
        user_id: int,
        posted_grade: str | None,
        grader_id: int | None,
        excuse: bool | None,
        emit: Emit,
    ) -> Submission:
        if excuse and posted_grade:
            raise GradeError("Cannot simultaneously grade and excuse an assignment")
        sub = self._placeholder(course, assignment, user_id)
        if excuse:
            grade, score, excused = None, None, True
        else:
            scheme = self.scheme_for(course, assignment)
            grade, score = compute_grade_and_score(
                assignment.grading_type, assignment.points_possible, scheme, posted_grade
            )
            excused = False
        if (grade, score, excused) == (sub.grade, sub.score, sub.excused):
            return sub  # the grade it already has: nothing new, no events
        old_grade, old_score = sub.grade, sub.score
        sub.grade, sub.score, sub.excused, sub.grader_id = grade, score, excused, grader_id
        if score is not None or excused:
            sub.graded_at = now()
            sub.grade_matches_current_submission = True
            if sub.posted_at is None and not assignment.post_manually:
                sub.posted_at = sub.graded_at
            sub.workflow_state = "graded"
        else:
            sub.workflow_state = "submitted" if sub.submitted_at else "unsubmitted"
        sub.updated_at = now()
        student = self.users[user_id]
        emit(
            "grade_change",
            bodies.grade_change(
                sub,
                assignment,
                student,
                old_grade=old_grade,
                old_score=old_score,
                old_points_possible=assignment.points_possible,
            ),
        )
        emit("submission_updated", bodies.submission(sub, assignment))
        self._rescore_student(course, user_id, emit)
        return sub

    # -- course scores and completion --------------------------------------------------------------

    def _compute_scores(self, course: Course, user_id: int) -> tuple[float | None, float | None]:
        graded_points = graded_possible = all_points = all_possible = 0.0
        for assignment in course.active_assignments():
            if not assignment.published or assignment.grading_type == "not_graded":
                continue
            possible = assignment.points_possible or 0.0
            sub = course.submissions.get((assignment.id, user_id))
            if sub is not None and sub.excused:
                continue
            all_possible += possible
            if sub is not None and sub.score is not None:
                graded_points += sub.score
                graded_possible += possible
                all_points += sub.score
        current = ruby_round(graded_points / graded_possible * 100) if graded_possible else None
        final = ruby_round(all_points / all_possible * 100) if all_possible else None
        return current, final

    def _rescore_student(self, course: Course, user_id: int, emit: Emit) -> None:
        scores = course.scores.setdefault(user_id, Scores())
        current, final = self._compute_scores(course, user_id)
        if (current, final) == (scores.current_score, scores.final_score):
            return
        old = Scores(scores.current_score, scores.final_score, scores.created_at, scores.updated_at)
        scores.current_score, scores.final_score, scores.updated_at = current, final, now()
        emit("course_grade_change", bodies.course_grade_change(course.id, user_id, scores, old))

    def _rescore(self, course: Course, emit: Emit) -> None:
        for enrollment in course.student_enrollments(("active", "invited", "inactive", "completed")):
            self._rescore_student(course, enrollment.user_id, emit)

    def complete_course(
        self, course_id: int, user_id: int, *, completed_at: str | datetime | None = None
    ) -> datetime:
        """The student has met every module requirement: Canvas emits ``course_completed``."""
        course, user = self.course(course_id), self.user(user_id)
        moment = parse_time(completed_at) or now()
        items = [
            item
            for mod in course.visible_modules()
            if mod.published
            for item in mod.visible_items()
            if item.workflow_state == "active"
        ]
        required = sum(1 for item in items if item.completion_requirement) or len(items)
        with self._change(course, user.id) as emit:
            self.completions[(course.id, user.id)] = moment
            emit(
                "course_completed",
                bodies.course_completed(
                    course, user, completed_at=moment, done=required, total=required, next_url=None
                ),
            )
        return moment

    # -- bulk updates (the submissions_update job) ----------------------------------------------------

    def bulk_update(
        self,
        course_id: int,
        grade_data: dict[int, dict[str, dict[str, Any]]],
        *,
        grader_id: int | None = None,
    ) -> Progress:
        """Queue ``{assignment_id: {student_id: {"posted_grade": …}}}``; returns the Progress."""
        course = self.course(course_id)
        with self.lock:
            progress = Progress(self._next_id("progress"), course.id, "submissions_update")
            self.progresses[progress.id] = progress
        worker = threading.Thread(
            target=self._run_bulk,
            args=(progress, course, grade_data, grader_id),
            name="canvas-bulk",
            daemon=True,
        )
        worker.start()
        return progress

    def _run_bulk(
        self,
        progress: Progress,
        course: Course,
        grade_data: dict[int, dict[str, dict[str, Any]]],
        grader_id: int | None,
    ) -> None:
        time.sleep(self.bulk_delay / 2)
        with self.lock:
            progress.workflow_state, progress.completion, progress.updated_at = "running", 0.0, now()
        time.sleep(self.bulk_delay / 2)
        missing: list[str] = []
        self._ctx.job = {"job_id": str(self._next_id("job")), "job_tag": "Submission.process_bulk_update"}
        try:
            for assignment_id, grades in grade_data.items():
                assignment = course.assignments[int(assignment_id)]
                for user_ref, data in grades.items():
                    user_id = int(user_ref) if str(user_ref).isdigit() else None
                    if user_id is None or not self.student_enrollment(course, user_id):
                        missing.append(str(user_ref))
                        continue
                    if "posted_grade" not in data and "excuse" not in data:
                        continue
                    excuse = str(data.get("excuse", "")).lower() in ("1", "true", "on", "yes")
                    try:
                        with self._change(course, grader_id) as emit:
                            self._apply_grade(
                                course, assignment, user_id, data.get("posted_grade"), grader_id, excuse, emit
                            )
                    except GradeError:
                        continue  # as in Canvas, a grade that means nothing is not applied; the job goes on
        finally:
            self._ctx.job = None
        with self.lock:
            if missing:
                progress.message = "Couldn't find User(s) with API ids " + ", ".join(
                    f"'{m}'" for m in missing
                )
                progress.workflow_state = "failed"
            else:
                progress.workflow_state, progress.completion = "completed", 100.0
            progress.updated_at = now()
