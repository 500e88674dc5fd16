"""Reads for the console's pages that no other app already offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from eduvault.content.models import Course
from eduvault.coursetree import Change, CourseTree, diff
from eduvault.sync.models import Change as ChangeRecord
from eduvault.sync.models import SyncRun
from eduvault.sync.render import describe
from eduvault.sync.selectors import change_of, course_tree_at

PAGE = 100


def keyset(rows: QuerySet, before: int | None, *, field: str = "id") -> tuple[list[Any], int | None]:
    """A page of ``rows`` (newest first) below ``before``, and where the next page starts."""
    if before:
        rows = rows.filter(**{f"{field}__lt": before})
    page = list(rows.order_by(f"-{field}")[: PAGE + 1])
    more = page[PAGE - 1] if len(page) > PAGE else None
    return page[:PAGE], (getattr(more, field) if more is not None else None)


def runs_filtered(
    *, course: str = "", outcome: str = "", since: datetime | None = None, until: datetime | None = None
) -> QuerySet[SyncRun]:
    runs = SyncRun.objects.select_related("source")
    if course:
        runs = runs.filter(course_key=course)
    if outcome:
        runs = runs.filter(outcome=outcome)
    if since:
        runs = runs.filter(started_at__gte=since)
    if until:
        runs = runs.filter(started_at__lt=until)
    return runs


def audit_filtered(
    *,
    course: str = "",
    node: str = "",
    op: str = "",
    actor: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[ChangeRecord]:
    changes = ChangeRecord.objects.select_related("run", "course")
    if course:
        changes = changes.filter(course__key=course)
    if node:
        changes = changes.filter(external_id__contains=node)
    if op:
        changes = changes.filter(op=op)
    if actor:
        changes = changes.filter(run__actor=actor)
    if since:
        changes = changes.filter(run__started_at__gte=since)
    if until:
        changes = changes.filter(run__started_at__lt=until)
    return changes


@dataclass(frozen=True)
class ChangeLine:
    op: str
    kind: str
    node: str
    text: str
    #: (field, before, after) for updates.
    fields: list[tuple[str, str, str]]


def _shown(value: Any) -> str:
    return "—" if value is None else str(value)


def describe_changes(
    changes: list[Change], old: CourseTree | None, new: CourseTree | None
) -> list[ChangeLine]:
    lines = []
    for change in changes:
        fields = (
            [(name, _shown(a), _shown(b)) for name, (a, b) in change.changed_fields().items()]
            if change.op == "update"
            else []
        )
        lines.append(ChangeLine(change.op, change.kind, change.id, describe(change, old, new).plain, fields))
    return lines


def run_change_lines(run: SyncRun) -> list[ChangeLine]:
    """A run's change set, in the course's words (titles, old and new places)."""
    records = list(ChangeRecord.objects.filter(run=run).order_by("seq"))
    if not records:
        return []
    changes = [change_of(r) for r in records]
    course = run.course
    old = new = None
    if course is not None and run.version_after and run.version_after <= course.version:
        new = course_tree_at(course=course, version=run.version_after)
        if run.version_before:
            old = course_tree_at(course=course, version=run.version_before)
    return describe_changes(changes, old, new)


def versions_diff(*, course: Course, from_version: int, to_version: int) -> list[ChangeLine]:
    """What changes between two versions of a course (either order)."""
    old = course_tree_at(course=course, version=from_version)
    new = course_tree_at(course=course, version=to_version)
    return describe_changes(diff(old, new), old, new)


@dataclass(frozen=True)
class TreeRow:
    depth: int
    kind: str
    title: str
    node: str


#: A page shows at most this many nodes of a tree (a course can have 200,000).
TREE_ROWS = 5000


def tree_rows(tree: CourseTree, *, limit: int = TREE_ROWS) -> list[TreeRow]:
    """The tree in reading order, indented by depth: the first ``limit`` nodes."""
    rows = []
    for node, depth in tree.preorder():
        if len(rows) == limit:
            break
        rows.append(TreeRow(depth, node.kind, node.title, node.id))
    return rows
