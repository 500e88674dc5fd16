"""Reads for the console's pages that no other app already offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet

from eduvault.cores.coursetree import Change, CourseTree, diff
from eduvault.pipeline.content.models import Course, Node
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.render import describe
from eduvault.pipeline.sync.selectors import change_of, course_tree_at

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
) -> QuerySet[FeedEntry]:
    """The course changes sync runs applied (their entries in the feed), filtered."""
    changes = FeedEntry.objects.filter(run__isnull=False)
    if course:
        changes = changes.filter(course__key=course)
    if node:
        changes = changes.filter(external_id__contains=node)
    if op:
        changes = changes.filter(op=op)
    if actor or since or until:
        runs = SyncRun.objects.all()
        if actor:
            runs = runs.filter(actor=actor)
        if since:
            runs = runs.filter(started_at__gte=since)
        if until:
            runs = runs.filter(started_at__lt=until)
        changes = changes.filter(run__in=runs.values("pk"))
    return changes


@dataclass(frozen=True)
class AuditRow:
    cursor: int
    course: str
    op: str
    kind: str
    node: str
    run: SyncRun | None
    #: What changed, in words: the fields with their old and new values, the old and new
    #: places, what was created or deleted.
    what: str


def audit_rows(entries: list[FeedEntry]) -> list[AuditRow]:
    """A page of audited changes, with their runs and what each changed: three queries."""
    runs = {r.pk: r for r in SyncRun.objects.filter(pk__in={e.run for e in entries})}
    courses = dict(Course.objects.filter(pk__in={e.course_id for e in entries}).values_list("pk", "key"))
    parents = {
        state.get("parent")
        for e in entries
        for state in (e.before or {}, e.after or {})
        if isinstance(state, dict) and state.get("parent")
    }
    titles = dict(Node.objects.filter(external_id__in=parents).values_list("external_id", "title"))
    return [
        AuditRow(
            e.cursor,
            courses.get(e.course_id, ""),
            e.op,
            e.kind,
            e.external_id,
            runs.get(e.run),
            _what(e.op, e.before or {}, e.after or {}, titles),
        )
        for e in entries
    ]


def _what(op: str, before: dict[str, Any], after: dict[str, Any], titles: dict[str, str]) -> str:
    def place(state: dict[str, Any]) -> str:
        parent = state.get("parent")
        where = repr(titles[parent]) if parent in titles else (parent or "the top")
        return f"{where}, position {(state.get('position') or 0) + 1}"

    if op == "update":
        old, new = before.get("fields", {}), after.get("fields", {})
        return "; ".join(
            f"{name}: {_shown(old.get(name))} → {_shown(new.get(name))}"
            for name in [*old, *(n for n in new if n not in old)]
        )
    if op == "move":
        return f"from {place(before)} to {place(after)}"
    if op == "create":
        return f"{after.get('fields', {}).get('title', '')!r} under {place(after)}"
    inside = len(before.get("subtree", []))
    suffix = f", with {inside} node{'s' * (inside != 1)} inside" if inside else ""
    return f"{before.get('fields', {}).get('title', '')!r} from {place(before)}{suffix}"


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
    records = list(FeedEntry.objects.filter(run=run.pk).order_by("seq"))
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


def outbox_overview() -> list[dict[str, Any]]:
    """Per channel: how many deliveries are pending, sending, done, failed and dead."""
    rows: dict[str, dict[str, Any]] = {}
    for row in Delivery.objects.values("channel", "status").annotate(n=Count("id")).order_by():
        rows.setdefault(row["channel"], {"channel": row["channel"]})[row["status"]] = row["n"]
    return sorted(rows.values(), key=lambda r: r["channel"])
