"""Canvas learner records, both ways.

Reading (the reconcile's safety net for lost Live Events): a course's enrollments, with its
users' logins and SIS ids, and its graded submissions (``GET /courses/:id/students/
submissions?student_ids[]=all``), each with Canvas's own time (``graded_at``, ``updated_at``).

Writing grades: ``PUT /courses/:course_id/assignments/:assignment_id/submissions/:user_id``
with ``submission[posted_grade]`` for one, ``POST /courses/:course_id/submissions/
update_grades`` (followed through its Progress) for several in one course. The grade sent is
the record's fraction of credit on the assignment's own scale (points, percent, letter,
pass/fail: :func:`eduvault.cores.records.scales.posted_grade`). Setting a grade is
idempotent: a retry sets the same value and creates nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from eduvault.cores.records.scales import Grade, GradingScheme, Scale, ScaleError, posted_grade
from eduvault.integrations.base import RecordFacts, RecordWrite, Written
from eduvault.integrations.canvas.client import CanvasClient
from eduvault.integrations.canvas.people import enrollment_facts, person_of, timestamp
from eduvault.integrations.canvas.structure import course_id_of
from eduvault.kernel.errors import SourceError, SourceRateLimited, SourceRejected, SourceUnavailable

#: Kinds of record Edu Vault writes to Canvas: scores on assignments.
WRITES = frozenset({"grade", "exam_result"})


def scale_links(assignment: Mapping[str, Any], schemes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What writing a grade to an assignment needs to know of it."""
    links: dict[str, Any] = {
        "points_possible": assignment.get("points_possible") or 0,
        "grading_type": assignment.get("grading_type") or "points",
    }
    standard = assignment.get("grading_standard_id")
    if standard is not None and schemes and str(standard) in schemes:
        links["grading_scheme"] = schemes[str(standard)]
    return links


class CanvasRecords:
    """Reads a course's records: enrollments and graded submissions."""

    def __init__(self, source: Any, client: CanvasClient) -> None:
        self.source = source
        self.client = client
        self.me = source.setting("api_user_id")

    def read_records(self, *, course_key: str, kinds: Iterable[str]) -> Iterator[RecordFacts]:
        wanted = set(kinds)
        course_id = course_id_of(self.source, course_key)
        key = f"{self.source.name}:{course_id}"
        users = self.client.users(course_id)
        people = {str(u["id"]): person_of(u) for u in users if "id" in u}
        if "enrollment" in wanted:
            yield from enrollment_facts(key, course_id, self.client.enrollments(course_id), users)
        if "grade" in wanted:
            schemes = {
                str(s["id"]): s.get("grading_scheme") for s in self.client.grading_standards(course_id)
            }
            assignments = {str(a["id"]): a for a in self.client.assignments(course_id)}
            for submission in self.client.submissions(course_id):
                fact = self._grade(key, course_id, submission, assignments, people, schemes)
                if fact is not None:
                    yield fact

    def _grade(
        self,
        key: str,
        course_id: str,
        submission: Mapping[str, Any],
        assignments: Mapping[str, Mapping[str, Any]],
        people: Mapping[str, Any],
        schemes: Mapping[str, Any],
    ) -> RecordFacts | None:
        if submission.get("score") is None and not submission.get("excused"):
            return None  # not graded: nothing to say about a grade
        assignment_id, user_id = str(submission["assignment_id"]), str(submission["user_id"])
        assignment = assignments.get(assignment_id, {})
        grader = str(submission.get("grader_id") or "")
        person = people.get(user_id)
        if person is None:
            return None  # not a user of the course any more
        return RecordFacts(
            kind="grade",
            course_key=key,
            object=f"assignment:{assignment_id}",
            person=person,
            fields={
                "score": submission.get("score"),
                "max": assignment.get("points_possible"),
                "grade": submission.get("grade"),
                "status": "excused" if submission.get("excused") else "graded",
            },
            at=timestamp(submission.get("graded_at") or submission.get("updated_at")),
            links={
                "course_id": course_id,
                "assignment_id": assignment_id,
                "submission_id": str(submission.get("id", "")),
                **scale_links(assignment, schemes),
            },
            actor=f"canvas user {grader}" if grader else "canvas",
            echo=bool(self.me) and grader == self.me,
            title=str(assignment.get("name") or ""),
        )

    def close(self) -> None:
        self.client.close()


class CanvasGrades:
    """Writes grades to Canvas assignments."""

    def __init__(self, source: Any, client: CanvasClient) -> None:
        self.source = source
        self.client = client

    def write(self, writes: Sequence[RecordWrite]) -> list[Written]:
        results: dict[int, Written] = {}
        by_course: dict[str, list[tuple[int, RecordWrite, str]]] = {}
        for i, write in enumerate(writes):
            try:
                grade = self._posted(write)
            except (ScaleError, KeyError, ValueError) as exc:
                results[i] = Written(
                    ok=False, permanent=True, error=f"cannot write this grade to Canvas: {exc}"
                )
                continue
            if grade is None:
                results[i] = Written(
                    ok=True, held=dict(write.fields)
                )  # not graded in Canvas: nothing to hold
                continue
            by_course.setdefault(str(write.links["course_id"]), []).append((i, write, grade))
        for course_id, items in by_course.items():
            if len(items) == 1:
                i, write, grade = items[0]
                results[i] = self._put(course_id, write, grade)
            else:
                results.update(self._bulk(course_id, items))
        return [results[i] for i in range(len(writes))]

    def _posted(self, write: RecordWrite) -> str | None:
        links, fields = write.links, write.fields
        score = fields.get("score")
        if score is None:
            return ""  # clears the grade
        scheme = links.get("grading_scheme")
        scale = Scale(
            grading_type=str(links.get("grading_type") or "points"),
            points_possible=float(links.get("points_possible") or 0),
            scheme=GradingScheme.from_canvas(scheme) if scheme else None,
        )
        maximum = fields.get("max")
        if not maximum:  # a grade out of nothing: take the points as Canvas's own
            maximum = scale.points_possible
        return posted_grade(Grade(float(score), float(maximum)), scale)

    def _put(self, course_id: str, write: RecordWrite, grade: str) -> Written:
        try:
            submission = self.client.put_grade(
                course_id, write.links["assignment_id"], write.links["user_id"], grade
            )
        except SourceError as exc:
            return _failed(exc)
        return Written(
            ok=True,
            held=dict(write.fields),
            at=timestamp(submission.get("graded_at"), default=0.0) or None,
            status_code=200,
        )

    def _bulk(self, course_id: str, items: list[tuple[int, RecordWrite, str]]) -> dict[int, Written]:
        grades: dict[str, dict[str, str]] = {}
        for _, write, grade in items:
            grades.setdefault(str(write.links["assignment_id"]), {})[str(write.links["user_id"])] = grade
        try:
            progress = self.client.wait_progress(self.client.update_grades(course_id, grades))
        except SourceError as exc:
            failed = _failed(exc)
            return {i: failed for i, _, _ in items}
        at = timestamp(progress.get("updated_at"), default=0.0) or None
        return {i: Written(ok=True, held=dict(write.fields), at=at, status_code=200) for i, write, _ in items}

    def close(self) -> None:
        self.client.close()


def _failed(exc: SourceError) -> Written:
    if isinstance(exc, SourceRateLimited):
        return Written(ok=False, error=str(exc), status_code=429, retry_after=exc.retry_after or 10.0)
    if isinstance(exc, SourceUnavailable):
        return Written(ok=False, error=str(exc))
    if isinstance(exc, SourceRejected):
        return Written(ok=False, error=str(exc), permanent=True, status_code=400)
    return Written(ok=False, error=str(exc))
