"""Reads for the console's pages that no other app already offers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, QuerySet

from eduvault.cores.coursetree import Change, CourseTree, diff
from eduvault.identity.models import Identity, Person
from eduvault.integrations.models import Source
from eduvault.pipeline.content.models import Course, Node
from eduvault.pipeline.feed.models import FeedEntry, Subscription
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.records.models import Record
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


def offset_page(rows: QuerySet, offset: int | None) -> tuple[list[Any], int | None]:
    """A page of ``rows`` in their own order from ``offset``, and where the next page starts
    (for lists ordered by something other than their id: names, the last change)."""
    start = offset or 0
    page = list(rows[start : start + PAGE + 1])
    return page[:PAGE], (start + PAGE if len(page) > PAGE else None)


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


def outbox_by_target() -> list[dict[str, Any]]:
    """Per target and channel: its deliveries by status, and what the target is (a source's
    platform, a webhook subscription's name). Three queries."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for row in Delivery.objects.values("target", "channel", "status").annotate(n=Count("id")).order_by():
        key = (row["target"], row["channel"])
        rows.setdefault(key, {"target": row["target"], "channel": row["channel"]})[row["status"]] = row["n"]
    targets = {t for t, _ in rows}
    platforms = dict(Source.objects.filter(name__in=targets).values_list("name", "platform"))
    hook_ids = [t.removeprefix("subscription:") for t in targets if t.startswith("subscription:")]
    hooks = {
        f"subscription:{pk}": name
        for pk, name in Subscription.objects.filter(
            pk__in=[int(n) for n in hook_ids if n.isascii() and n.isdigit() and len(n) < 19]
        ).values_list("pk", "name")
    }
    for (target, _), row in rows.items():
        if target in platforms:
            row["what"] = platform_name(platforms[target])
        elif target in hooks:
            row["what"] = f"webhook {hooks[target]}"
        else:
            row["what"] = ""
    return sorted(rows.values(), key=lambda r: (r["target"], r["channel"]))


# -- learner records, people, identities ----------------------------------------------------------

PLATFORM_NAMES = {
    "eduvault": "Edu Vault",
    "canvas": "Canvas",
    "openedx": "Open edX",
    "discourse": "Discourse",
    "lti": "LTI",
    "device": "a device",
}


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def shown_value(value: Any) -> str:
    """A field's value for people: 3.0 is 3, None is a dash, text is itself."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class WriteChoice:
    """One of a conflict's writes, and the button that settles the field to it."""

    value: str
    #: The value as the settle form posts it (JSON).
    posted: str
    replica: str
    platform: str
    at: datetime | None
    actor: str
    owner: bool
    winner: bool
    #: "keep Edu Vault's 5", "take Canvas's 3".
    label: str


@dataclass(frozen=True)
class ConflictRow:
    field: str
    owner: str
    winner: WriteChoice
    losers: list[WriteChoice]


def _choice(write: dict[str, Any], *, owners: list[str], winner: bool) -> WriteChoice:
    platform = str(write.get("platform") or write.get("replica") or "")
    replica = str(write.get("replica") or "")
    value = shown_value(write.get("value"))
    verb = "keep" if winner else "take"
    return WriteChoice(
        value=value,
        posted=json.dumps(write.get("value")),
        replica=replica,
        platform=platform_name(platform),
        at=_epoch(write.get("at")),
        actor=str(write.get("actor") or ""),
        owner=platform in owners or replica in owners,
        winner=winner,
        label=f"{verb} {platform_name(platform)}'s {value}"[:120],
    )


def conflict_rows(conflicts: list[dict[str, Any]]) -> list[ConflictRow]:
    """A record's open conflicts (:func:`record_conflicts`) as the record page shows them."""
    return [
        ConflictRow(
            field=c["field"],
            owner=", ".join(platform_name(o) for o in c["owner"]) or "—",
            winner=_choice(c["winner"], owners=c["owner"], winner=True),
            losers=[_choice(w, owners=c["owner"], winner=False) for w in c["losers"]],
        )
        for c in conflicts
    ]


@dataclass(frozen=True)
class Writer:
    """One side of a record's open conflicts: a replica and everything it wrote there."""

    replica: str
    platform: str
    label: str
    values: str
    winning: bool


def conflict_writers(conflicts: list[dict[str, Any]]) -> list[Writer]:
    """Who wrote what in a record's open conflicts, one entry per replica (the winner's first):
    taking a side settles all of its fields at once (a grade's score and maximum together)."""
    sides: dict[str, dict[str, Any]] = {}
    winners: set[str] = set()
    platforms: dict[str, str] = {}
    for c in conflicts:
        for i, write in enumerate([c["winner"], *c["losers"]]):
            sides.setdefault(write["replica"], {})[c["field"]] = write["value"]
            platforms[write["replica"]] = write.get("platform", "")
            if i == 0:
                winners.add(write["replica"])
    out = []
    for replica, values in sorted(sides.items(), key=lambda kv: (kv[0] not in winners, kv[0])):
        shown = ", ".join(f"{k} {shown_value(v)}" for k, v in values.items())
        verb = "Keep" if replica in winners else "Take"
        out.append(
            Writer(
                replica,
                platforms[replica],
                f"{verb} {platform_name(platforms[replica]) or replica}'s {shown}",
                shown,
                replica in winners,
            )
        )
    return out


@dataclass(frozen=True)
class HeldIdentity:
    identity: Identity
    #: The people it matched, to choose from (those still there).
    candidates: list[Person]
    #: Records that came through it while it is held.
    records: int


def held_identities(identities: list[Identity]) -> list[HeldIdentity]:
    """A page of held identities with their candidates and held records: two queries."""
    wanted = {pk for i in identities for pk in i.candidates or [] if isinstance(pk, int)}
    people = Person.objects.filter(pk__in=wanted).in_bulk() if wanted else {}
    counts = dict(
        Record.objects.filter(holder__in=[f"i{i.pk}" for i in identities], merged_into=None)
        .values("holder")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("holder", "n")
    )
    return [
        HeldIdentity(
            i,
            [people[pk] for pk in i.candidates or [] if pk in people],
            counts.get(f"i{i.pk}", 0),
        )
        for i in identities
    ]


def _epoch(at: Any) -> datetime | None:
    if isinstance(at, int | float) and not isinstance(at, bool) and at > 0:
        return datetime.fromtimestamp(float(at), tz=UTC)
    return None


@dataclass(frozen=True)
class ReplicaRow:
    """What one replica holds of a record (Edu Vault's own first: the settled fields)."""

    name: str
    platform: str
    #: (field, value shown, whether it differs from the settled value)
    fields: list[tuple[str, str, bool]]
    at: datetime | None
    links: list[tuple[str, str]]


def replica_rows(data: dict[str, Any]) -> list[ReplicaRow]:
    """Which platform holds what of a record (:func:`record_data`): one query."""
    settled = data["fields"]
    replicas = data["replicas"]
    platforms = dict(Source.objects.filter(name__in=list(replicas)).values_list("name", "platform"))
    rows = [
        ReplicaRow(
            "eduvault",
            "Edu Vault (settled)",
            [(k, shown_value(v), False) for k, v in settled.items()],
            data["updated_at"],
            [],
        )
    ]
    for name, replica in sorted(replicas.items()):
        held = replica.get("fields") or {}
        rows.append(
            ReplicaRow(
                name,
                platform_name(platforms.get(name, "")) or "—",
                [(k, shown_value(v), k in settled and settled[k] != v) for k, v in held.items()],
                _epoch(replica.get("at")),
                [(k, shown_value(v)) for k, v in (replica.get("links") or {}).items()],
            )
        )
    return rows


@dataclass(frozen=True)
class HistoryRow:
    """One field of one change, as the record's history shows it."""

    id: int
    when: datetime
    field: str
    outcome: str
    conflict: bool
    said: str
    before: str
    after: str
    replica: str
    platform: str
    actor: str
    source_time: datetime | None
    cursor: int | None


def history_row(change: dict[str, Any]) -> HistoryRow:
    """A field change (:func:`change_data`) in the words of the page."""
    return HistoryRow(
        change["id"],
        change["created_at"],
        change["field"],
        change["outcome"],
        change["conflict"],
        shown_value(change["value"]),
        shown_value(change["before"]),
        shown_value(change["after"]),
        change["replica"],
        platform_name(change["platform"]),
        change["actor"],
        change["source_time"],
        change["cursor"],
    )
