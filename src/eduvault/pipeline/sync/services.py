"""Synchronizing a course: fetch, normalize, diff, apply in one transaction, record.

Concurrency: every apply runs in one durable transaction that first locks the course's row
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the transaction takes the database's
write lock when it begins). Under that lock it reads the stored tree, diffs, writes, and
bumps the version with a compare-and-swap, so at most one sync applies to a course at a
time and versions rise by exactly one per applied run. A run that fails rolls back
entirely; its failure is then recorded in a transaction of its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from eduvault.cores.coursetree import Change, CourseTree, count_ops, diff
from eduvault.cores.coursetree.tree import Positions
from eduvault.integrations.base import CapabilityMissing, FetchedCourse, integration_class, structure_reader
from eduvault.integrations.models import Source
from eduvault.kernel import bulk
from eduvault.kernel.errors import ConcurrentUpdate, EduVaultError, VersionNotFound
from eduvault.pipeline.content.models import Course, Node
from eduvault.pipeline.content.selectors import StoredTree, course_get, course_tree_load
from eduvault.pipeline.feed.services import Entry, feed_append
from eduvault.pipeline.records.services import records_ingest
from eduvault.pipeline.sync import subscriptions
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.selectors import course_tree_at

log = structlog.get_logger(__name__)

#: Work an operator starts by hand: its record deliveries are not held back by a window.
MANUAL_TRIGGERS = frozenset({SyncRun.Trigger.CLI, SyncRun.Trigger.API, SyncRun.Trigger.DEMO})

#: The priority class of content changes (background work for consumers).
CHANGE_PRIORITY = "background"

#: Called with the name of each phase as it starts: fetch, normalize, diff, apply.
PhaseCallback = Callable[[str], None]


def _no_phase(_: str) -> None:
    pass


@dataclass
class _Trigger:
    kind: str
    actor: str
    detail: dict[str, Any]
    source: Source | None


# -- entry points ----------------------------------------------------------------------


def course_sync(
    *,
    course_key: str,
    source: Source,
    trigger: str = SyncRun.Trigger.CLI,
    actor: str = "",
    detail: dict[str, Any] | None = None,
    on_phase: PhaseCallback = _no_phase,
    record_unchanged: bool = True,
) -> SyncRun:
    """Fetch ``course_key`` from ``source`` and apply it. Raises (after recording a failed
    run) if the source cannot be read, the structure is rejected or the apply fails.

    With ``record_unchanged=False`` (the periodic reconcile) a course whose content has not
    changed costs the fetch and nothing else: no lock, no write; the run returned is not
    saved.
    """
    why = _Trigger(trigger, actor, detail or {}, source)
    with _recording_failure(course_key, why) as clock:
        on_phase("fetch")
        reader = structure_reader(source)
        try:
            fetched = reader.fetch_course(course_key)
        finally:
            reader.close()
        run = None if record_unchanged else _unchanged_without_writing(course_key, fetched, why, clock)
        if run is None:
            run = _apply(
                course_key,
                lambda course, stored: fetched.tree,
                why,
                clock,
                fetched=fetched,
                on_phase=on_phase,
            )
    if fetched.records:
        # The records that come with the structure (a Canvas course's enrollments), once the
        # course they belong to is stored.
        on_phase("records")
        records_ingest(source=source, facts=fetched.records, manual=trigger in MANUAL_TRIGGERS)
    return run


def _unchanged_without_writing(
    course_key: str, fetched: FetchedCourse, why: _Trigger, clock: _Clock
) -> SyncRun | None:
    stored = _courses(course_key, why.source).values_list("pk", "content_hash", "version").first()
    if stored is None or not stored[2] or stored[1] != fetched.tree.hash:
        return None
    now = timezone.now()
    return SyncRun(
        course_id=stored[0],
        course_key=course_key,
        source=why.source,
        trigger=why.kind,
        actor=why.actor,
        trigger_detail=why.detail,
        outcome=SyncRun.Outcome.UNCHANGED,
        version_before=stored[2],
        version_after=stored[2],
        started_at=clock.started,
        finished_at=now,
        duration_ms=int((time.perf_counter() - clock.t0) * 1000),
    )


def sources_reconcile(
    *,
    sources: list[Source] | None = None,
    on_course: Callable[[str, SyncRun | None, Exception | None], None] | None = None,
) -> dict[str, int]:
    """Sync every course of every (enabled) source that has course structures, as a safety
    net for lost events.

    Unchanged courses cost one fetch and no writes. A failing course is recorded as a failed
    run and the reconcile goes on with the next.
    """
    counts = {"courses": 0, "applied": 0, "unchanged": 0, "failed": 0}
    for source in sources if sources is not None else Source.objects.filter(enabled=True):
        try:
            reader = structure_reader(source)
        except CapabilityMissing:
            continue
        try:
            keys = list(reader.list_courses())
        except Exception as exc:
            counts["failed"] += 1
            log.warning("reconcile.list_failed", source=source.name, error=getattr(exc, "detail", str(exc)))
            if on_course:
                on_course(f"{source.name}: course list", None, exc)
            continue
        finally:
            reader.close()
        for key in keys:
            counts["courses"] += 1
            try:
                run = course_sync(
                    course_key=key,
                    source=source,
                    trigger=SyncRun.Trigger.RECONCILE,
                    actor="reconcile",
                    record_unchanged=False,
                )
            except Exception as exc:
                counts["failed"] += 1
                if on_course:
                    on_course(key, None, exc)
                continue
            counts[run.outcome] += 1
            if on_course:
                on_course(key, run, None)
    log.info("reconcile.finished", **counts)
    return counts


def course_sync_blocks(
    *,
    course_key: str,
    blocks: Any,
    trigger: str = SyncRun.Trigger.FILE,
    actor: str = "",
    detail: dict[str, Any] | None = None,
    kind_map: dict[str, str] | None = None,
    platform: str = "openedx",
    on_phase: PhaseCallback = _no_phase,
) -> SyncRun:
    """Apply a course structure document already in hand (a saved Course Blocks API
    response, a test fixture), read as ``platform``'s integration reads them."""
    why = _Trigger(trigger, actor, detail or {}, None)
    with _recording_failure(course_key, why) as clock:
        on_phase("normalize")
        tree = integration_class(platform).normalize_structure(blocks, kind_map=kind_map)
        fetched = FetchedCourse(key=course_key, title=tree[tree.root].title, tree=tree)
        return _apply(course_key, lambda course, stored: tree, why, clock, fetched=fetched, on_phase=on_phase)


def course_rollback(
    *, course_key: str, to_version: int, actor: str = "", source: str | None = None
) -> SyncRun:
    """Bring the course back to what it was at ``to_version``: a new run applying the
    inverse changes. History is not rewritten; the version goes up by one."""
    course = course_get(key=course_key, source=source)
    if not 1 <= to_version <= course.version:
        raise VersionNotFound(
            f"{course_key} has versions 1 to {course.version}; there is no version {to_version} to roll back to"
        )
    why = _Trigger(SyncRun.Trigger.ROLLBACK, actor, {"to_version": to_version}, course.source)

    def target(course: Course, stored: StoredTree) -> CourseTree:
        return course_tree_at(course=course, version=to_version)

    with _recording_failure(course_key, why) as clock:
        return _apply(course_key, target, why, clock)


# -- applying --------------------------------------------------------------------------


@dataclass
class _Clock:
    """When a run started: its duration covers every phase, the fetch included."""

    started: datetime
    t0: float


@contextmanager
def _recording_failure(course_key: str, why: _Trigger) -> Iterator[_Clock]:
    started, t0 = timezone.now(), time.perf_counter()
    try:
        yield _Clock(started, t0)
    except Exception as exc:
        _record_failure(course_key, why, exc, started, t0)
        raise


def _record_failure(course_key: str, why: _Trigger, exc: Exception, started: datetime, t0: float) -> None:
    duration_ms = int((time.perf_counter() - t0) * 1000)
    detail = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
    course = _courses(course_key, why.source).first()
    run = SyncRun.objects.create(
        course=course,
        course_key=course_key,
        source=why.source,
        trigger=why.kind,
        trigger_detail=why.detail,
        actor=why.actor,
        outcome=SyncRun.Outcome.FAILED,
        version_before=course.version if course else None,
        version_after=course.version if course else None,
        error=detail,
        error_code=type(exc).__name__,
        started_at=started,
        finished_at=timezone.now(),
        duration_ms=duration_ms,
    )
    fields = {
        "course": course_key,
        "run": run.pk,
        "trigger": why.kind,
        "error": detail,
        "error_code": type(exc).__name__,
        "duration_ms": duration_ms,
    }
    if isinstance(exc, EduVaultError):
        log.warning("sync.failed", **fields)
    else:  # not a failure we know: a bug, with its traceback, once
        log.exception("sync.failed", **fields)


def _apply(
    course_key: str,
    target: Callable[[Course, StoredTree], CourseTree],
    why: _Trigger,
    clock: _Clock,
    *,
    fetched: FetchedCourse | None = None,
    on_phase: PhaseCallback = _no_phase,
) -> SyncRun:
    started, t0 = clock.started, clock.t0
    new_hash = fetched.tree.hash if fetched else None
    for attempt in (1, 2):
        try:
            with transaction.atomic(durable=True):
                course = _lock_course(course_key, why, fetched)
                if new_hash is not None and course.version and course.content_hash == new_hash:
                    return _finish(course, why, SyncRun.Outcome.UNCHANGED, [], started, t0)
                on_phase("diff")
                stored = course_tree_load(course=course)
                new_tree = target(course, stored)
                changes = diff(stored.tree, new_tree)
                if not changes:
                    return _finish(course, why, SyncRun.Outcome.UNCHANGED, [], started, t0)
                on_phase("apply")
                run = _finish(
                    course, why, SyncRun.Outcome.APPLIED, changes, started, t0, tree=new_tree, fetched=fetched
                )
                pks = _write_nodes(course, stored, new_tree, changes)
                subscriptions.notify(course=course, run=run, changes=changes, node_pks=pks)
                # Last: the feed cursors, whose lock is held from here to the commit.
                _write_changes(course, run, changes)
                return run
        except IntegrityError:
            # Two first syncs of a new course raced to create it; the loser retries once
            # and finds the course.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _courses(course_key: str, source: Source | None) -> Any:
    """The course ``course_key`` of ``source``, or, failing that, one synced from a file
    (which the source then adopts)."""
    courses = Course.objects.filter(key=course_key)
    if source is None:
        return courses.filter(source__isnull=True)
    return courses.filter(Q(source=source) | Q(source__isnull=True)).order_by(
        F("source_id").asc(nulls_last=True)
    )


def _lock_course(course_key: str, why: _Trigger, fetched: FetchedCourse | None) -> Course:
    course = _courses(course_key, why.source).select_for_update().first()
    if course is None:
        course = Course.objects.create(
            key=course_key,
            title=fetched.title if fetched else "",
            source=why.source,
            platform=why.source.platform if why.source else "openedx",
        )
    elif why.source is not None and course.source_id is None:
        # A course first synced from a file: the source it now comes from adopts it.
        Course.objects.filter(pk=course.pk).update(source=why.source, platform=why.source.platform)
        course.source, course.platform = why.source, why.source.platform
    return course


def _finish(
    course: Course,
    why: _Trigger,
    outcome: str,
    changes: list[Change],
    started: datetime,
    t0: float,
    *,
    tree: CourseTree | None = None,
    fetched: FetchedCourse | None = None,
) -> SyncRun:
    """Record the run and, when it applies changes, move the course to its next version."""
    counts = count_ops(changes)
    now = timezone.now()
    version_after = course.version + (1 if outcome == SyncRun.Outcome.APPLIED else 0)
    if outcome == SyncRun.Outcome.APPLIED:
        assert tree is not None
        updates: dict[str, Any] = {
            "version": version_after,
            "content_hash": tree.hash,
            "node_count": len(tree),
            "title": tree[tree.root].title,
            "last_synced_at": now,
        }
        if fetched is not None:
            updates["source_version"] = fetched.source_version
            updates["source_timestamp"] = fetched.source_timestamp
        # Compare-and-swap on the version: a belt to the row lock's braces.
        if not Course.objects.filter(pk=course.pk, version=course.version).update(**updates):
            raise ConcurrentUpdate(f"{course.key} changed version during the sync; nothing was applied")
        for name, value in updates.items():
            setattr(course, name, value)
    elif course.version:
        Course.objects.filter(pk=course.pk).update(last_synced_at=now)
    duration_ms = int((time.perf_counter() - t0) * 1000)
    run = SyncRun.objects.create(
        course=course,
        course_key=course.key,
        source=why.source,
        trigger=why.kind,
        trigger_detail=why.detail,
        actor=why.actor,
        outcome=outcome,
        version_before=course.version - (1 if outcome == SyncRun.Outcome.APPLIED else 0),
        version_after=version_after,
        creates=counts["create"],
        updates=counts["update"],
        moves=counts["move"],
        deletes=counts["delete"],
        node_count=course.node_count,
        content_hash=course.content_hash,
        started_at=started,
        finished_at=now,
        duration_ms=duration_ms,
    )
    log.info(
        "sync.finished",
        course=course.key,
        run=run.pk,
        outcome=outcome,
        trigger=why.kind,
        version=version_after,
        nodes=course.node_count,
        duration_ms=duration_ms,
        **counts,
    )
    return run


def _write_nodes(
    course: Course, stored: StoredTree, new: CourseTree, changes: list[Change]
) -> dict[str, str]:
    """Write the node rows that differ: one INSERT, one UPDATE and one DELETE at most.

    Returns external id -> primary key (hex) for every node of the new tree.
    """
    old = stored.tree
    pks = dict(stored.pks)
    created: list[str] = []
    touched: set[str] = set()
    parents: set[str] = set()
    deleted: list[str] = []
    for ch in changes:
        if ch.op == "create":
            pks[ch.id] = uuid.uuid4().hex
            created.append(ch.id)
        elif ch.op == "delete":
            deleted.append(pks.pop(ch.id))
            deleted.extend(pks.pop(entry[0]) for entry in ch.subtree)
            if ch.old_parent is not None:
                parents.add(ch.old_parent)
            continue
        else:
            touched.add(ch.id)
        if ch.parent is not None:
            parents.add(ch.parent)
        if ch.old_parent is not None:
            parents.add(ch.old_parent)

    # Inner nodes whose subtree hash changed: the ancestors of every change.
    new_hashes = new.subtree_hashes()
    old_hashes = old.subtree_hashes() if old is not None else {}
    new_ids = set(created)
    touched.update(n for n, h in new_hashes.items() if old_hashes.get(n) != h and n not in new_ids)
    touched.update(n for n in old_hashes.keys() - new_hashes.keys() if n in new.nodes)  # now leaves

    # Siblings that did not move but whose index changed as others came and went.
    nodes = new.nodes
    old_positions = Positions(old)
    for parent in parents:
        node = nodes.get(parent)
        if node is None:
            continue
        old_index = old_positions.of_children(parent)
        for i, child in enumerate(node.children):
            if child not in new_ids and old_index.get(child) != i:
                touched.add(child)

    position = Positions(new)

    def row(node_id: str) -> dict[str, Any]:
        node = nodes[node_id]
        fields = node.fields
        return {
            "id": pks[node_id],
            "parent": pks[node.parent] if node.parent is not None else None,
            "position": position(node),
            "kind": node.kind,
            "title": fields.get("title", ""),
            "attributes": {k: v for k, v in fields.items() if k != "title"},
            "content_hash": node.hash,
            "subtree_hash": new_hashes.get(node_id, ""),
        }

    bulk.delete_rows(Node, deleted)
    bulk.update_rows(Node, [row(n) for n in touched])
    bulk.insert_rows(
        Node,
        [{"course": course.pk, "external_id": n, **row(n)} for n in created],
    )
    return pks


#: A change set this large reshapes the node table enough to refresh PostgreSQL's statistics.
ANALYZE_AFTER = 5000


def _analyze_nodes() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Node._meta.db_table}")


def _write_changes(course: Course, run: SyncRun, changes: list[Change]) -> None:
    """The run's changes, with their before and after, into the feed: the course's history
    and what consumers follow, under cursors taken last (held to the commit)."""
    if len(changes) >= ANALYZE_AFTER:
        transaction.on_commit(_analyze_nodes)
    feed_append(
        entries=[Entry(ch.kind, ch.op, ch.id, ch.before(), ch.after()) for ch in changes],
        course_id=course.pk,
        priority=CHANGE_PRIORITY,
        run=run.pk,
        version=run.version_after,
        at=run.finished_at,
    )
