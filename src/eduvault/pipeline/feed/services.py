"""Writing to the change feed, and telling listeners that it moved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from eduvault.kernel import bulk
from eduvault.kernel.priorities import check_priority
from eduvault.pipeline.feed import broadcast
from eduvault.pipeline.feed.models import FeedCounter, FeedEntry

#: A write this large reshapes the feed table enough to refresh PostgreSQL's statistics (the
#: planner would otherwise scan the whole table to page through the feed).
ANALYZE_AFTER = 5000


def feed_reserve(count: int) -> int:
    """Reserve ``count`` cursors for entries written in the current transaction; returns the
    first. The counter row stays locked until the transaction ends (see FeedCounter)."""
    if not connection.in_atomic_block:
        raise RuntimeError("feed cursors are reserved inside the transaction that writes the entries")
    table = connection.ops.quote_name(FeedCounter._meta.db_table)
    # One statement: the counter moved and read (and, on PostgreSQL, listeners told at commit:
    # PostgreSQL delivers the notification to every listening process, in commit order).
    if connection.vendor == "postgresql":
        sql = (
            f"WITH moved AS (UPDATE {table} SET head = head + %s WHERE id = 1 RETURNING head) "
            "SELECT head, pg_notify(%s, head::text) FROM moved"
        )
        params: list[Any] = [count, broadcast.CHANNEL]
    else:
        sql, params = f"UPDATE {table} SET head = head + %s WHERE id = 1 RETURNING head", [count]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:  # a database whose counter row was never created
            FeedCounter.objects.get_or_create(pk=1, defaults={"head": 0})
            cursor.execute(sql, params)
            row = cursor.fetchone()
    head = int(row[0])
    transaction.on_commit(lambda: broadcast.announce(head))
    return head - count + 1


@dataclass(frozen=True)
class Entry:
    """An entry to append: what changed, before and after."""

    kind: str
    op: str
    external_id: str
    before: Any = None
    after: Any = None


def feed_append(
    *,
    entries: Sequence[Entry],
    course_id: int | None,
    priority: str,
    run: int | None = None,
    version: int | None = None,
    at: datetime | None = None,
) -> int:
    """Append entries, in order, inside the caller's transaction: they are published if and
    only if it commits. One statement whatever their number; the cursors are taken last
    (their lock is held from here to the commit, so call this at the end of the
    transaction). Returns the first cursor."""
    check_priority(priority)
    if not entries:
        return 0
    first = feed_reserve(len(entries))
    created = (at or timezone.now()).isoformat()
    bulk.insert_rows(
        FeedEntry,
        [
            {
                "cursor": first + seq,
                "course": course_id,
                "kind": e.kind,
                "op": e.op,
                "external_id": e.external_id,
                "run": run,
                "seq": seq,
                "version": version,
                "priority": priority,
                "before": e.before,
                "after": e.after,
                "created_at": created,
            }
            for seq, e in enumerate(entries)
        ],
    )
    if len(entries) >= ANALYZE_AFTER:
        transaction.on_commit(_analyze)
    return first


def feed_publish(
    *, course_id: int | None, kind: str, op: str, external_id: str, data: dict[str, Any], priority: str
) -> FeedEntry:
    """Put one entry (a grade, a mastery) in the feed, inside the caller's transaction."""
    check_priority(priority)
    return FeedEntry.objects.create(
        cursor=feed_reserve(1),
        course_id=course_id,
        kind=kind,
        op=op,
        external_id=external_id,
        priority=priority,
        after=data,
        created_at=timezone.now(),
    )


def _analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {FeedEntry._meta.db_table}")
