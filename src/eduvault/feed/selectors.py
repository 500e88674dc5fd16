"""Reading the change feed: changes in cursor order, filtered by scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import connection

from eduvault.core.models import ApiToken
from eduvault.feed.services import feed_head

#: Most changes one feed page returns.
MAX_PAGE = 1000


@dataclass(frozen=True)
class Scope:
    """What a reader may see: course keys and kinds (None: all)."""

    courses: frozenset[str] | None = None
    kinds: frozenset[str] | None = None

    @classmethod
    def of(cls, token: ApiToken | None, *, courses: Iterable[str] = (), kinds: Iterable[str] = ()) -> Scope:
        """The token's scope, narrowed by what the reader asked for."""
        wanted_courses = frozenset(c for c in courses if c)
        wanted_kinds = frozenset(k for k in kinds if k)
        allowed_courses = (
            frozenset(token.courses) if token is not None and not token.is_admin and token.courses else None
        )
        allowed_kinds = (
            frozenset(token.kinds) if token is not None and not token.is_admin and token.kinds else None
        )
        return cls(_narrow(allowed_courses, wanted_courses), _narrow(allowed_kinds, wanted_kinds))

    def allows(self, course: str, kind: str) -> bool:
        return (self.courses is None or course in self.courses) and (self.kinds is None or kind in self.kinds)


def _narrow(allowed: frozenset[str] | None, wanted: frozenset[str]) -> frozenset[str] | None:
    if not wanted:
        return allowed
    return wanted if allowed is None else allowed & wanted


@dataclass(frozen=True)
class FeedEntry:
    cursor: int
    course: str
    kind: str
    op: str
    #: The entry as the feed and the stream send it, serialized once.
    json: bytes


def _fragment(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (bytes, str)):
        return orjson.Fragment(value)  # stored JSON, embedded without parsing it
    return value


def _time(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands raw timestamps over as text, in UTC
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    return str(value)


#: The priority class of course changes (content edits are background work).
CHANGE_PRIORITY = "background"


def _branch(table: str, columns: str, scope: Scope, course_ids: list[int] | None) -> str:
    sql = [f"SELECT {columns} FROM {table} WHERE cursor > %s AND cursor <= %s"]
    if course_ids is not None:
        sql.append(f"AND course_id IN ({', '.join(['%s'] * len(course_ids))})")
    if scope.kinds is not None:
        sql.append(f"AND kind IN ({', '.join(['%s'] * len(scope.kinds))})")
    sql.append("ORDER BY cursor LIMIT %s")
    return " ".join(sql)


def feed_read(*, after: int, limit: int, scope: Scope = Scope(), upto: int | None = None) -> list[FeedEntry]:
    """Entries with ``after < cursor <= upto``, in cursor order, that ``scope`` allows: the
    course changes, and the other events (grades, mastery) that share their cursor.

    Two indexed range scans (one per table) merged by cursor; the course keys and run
    details the entries carry come from two small lookups, not from a join on every row.
    """
    limit = max(1, min(limit, MAX_PAGE))
    if (scope.courses is not None and not scope.courses) or (scope.kinds is not None and not scope.kinds):
        return []
    course_ids = None
    if scope.courses is not None:
        course_ids = _course_ids(scope.courses)
        if not course_ids:
            return []
    params: list[Any] = [after, upto if upto is not None else 2**62]
    if course_ids is not None:
        params.extend(course_ids)
    if scope.kinds is not None:
        params.extend(sorted(scope.kinds))
    params.append(limit)
    pg = connection.vendor == "postgresql"
    text = "::text" if pg else ""
    none = (
        {"int": "NULL::bigint", "text": "NULL::text", "time": "NULL::timestamptz"}
        if pg
        else dict.fromkeys(("int", "text", "time"), "NULL")
    )
    changes = _branch(
        "sync_change",
        f"cursor, course_id, run_id, op, kind, external_id, before{text}, after{text}, "
        f"{none['text']} AS priority, {none['time']} AS created_at",
        scope,
        course_ids,
    )
    events = _branch(
        "feed_feedevent",
        f"cursor, course_id, {none['int']}, op, kind, external_id, {none['text']}, data{text}, "
        "priority, created_at",
        scope,
        course_ids,
    )
    sql = f"SELECT * FROM ({changes}) c UNION ALL SELECT * FROM ({events}) e ORDER BY 1 LIMIT %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *params, limit])
        rows = cursor.fetchall()
    if not rows:
        return []
    keys = _course_keys({row[1] for row in rows})
    runs = _runs({row[2] for row in rows if row[2] is not None})
    dumps = orjson.dumps
    out = []
    for cursor_, course_id, run_id, op, kind, external_id, before, after_, priority, created in rows:
        course = keys[course_id]
        version, time = runs[run_id] if run_id is not None else (None, _time(created))
        out.append(
            FeedEntry(
                cursor=cursor_,
                course=course,
                kind=kind,
                op=op,
                json=dumps(
                    {
                        "cursor": cursor_,
                        "course": course,
                        "run": run_id,
                        "version": version,
                        "time": time,
                        "priority": priority or CHANGE_PRIORITY,
                        "op": op,
                        "kind": kind,
                        "id": external_id,
                        "before": _fragment(before),
                        "after": _fragment(after_),
                    }
                ),
            )
        )
    return out


def _course_keys(ids: set[int]) -> dict[int, str]:
    from eduvault.content.models import Course

    return dict(Course.objects.filter(pk__in=ids).values_list("pk", "key"))


def _course_ids(keys: frozenset[str]) -> list[int]:
    from eduvault.content.models import Course

    return sorted(Course.objects.filter(key__in=keys).values_list("pk", flat=True))


def _runs(ids: set[int]) -> dict[int, tuple[int | None, str | None]]:
    from eduvault.sync.models import SyncRun

    return {
        pk: (version, _time(finished))
        for pk, version, finished in SyncRun.objects.filter(pk__in=ids).values_list(
            "pk", "version_after", "finished_at"
        )
    }


def feed_page(*, after: int, limit: int, scope: Scope) -> tuple[list[FeedEntry], int]:
    """A page of the feed and the cursor to resume from. When the page is not full, every
    change up to the feed's head has been looked at, so the reader resumes from the head
    (a filtered reader skips what it may not see)."""
    head = feed_head()  # read first: every change up to it has committed
    entries = feed_read(after=after, limit=limit, scope=scope, upto=head)
    if len(entries) == max(1, min(limit, MAX_PAGE)):
        return entries, entries[-1].cursor
    return entries, max(after, head)
