"""Reading the change feed: changes in cursor order, filtered by scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
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
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def feed_read(*, after: int, limit: int, scope: Scope = Scope(), upto: int | None = None) -> list[FeedEntry]:
    """Changes with ``after < cursor <= upto``, in cursor order, that ``scope`` allows."""
    limit = max(1, min(limit, MAX_PAGE))
    if (scope.courses is not None and not scope.courses) or (scope.kinds is not None and not scope.kinds):
        return []
    text = "::text" if connection.vendor == "postgresql" else ""
    sql = [
        f"SELECT c.cursor, co.key, c.run_id, r.version_after, r.finished_at, c.op, c.kind, c.external_id, "
        f"c.before{text}, c.after{text} "
        "FROM sync_change c JOIN content_course co ON co.id = c.course_id JOIN sync_syncrun r ON r.id = c.run_id "
        "WHERE c.cursor > %s"
    ]
    params: list[Any] = [after]
    if upto is not None:
        sql.append("AND c.cursor <= %s")
        params.append(upto)
    if scope.courses is not None:
        sql.append(f"AND co.key IN ({', '.join(['%s'] * len(scope.courses))})")
        params.extend(sorted(scope.courses))
    if scope.kinds is not None:
        sql.append(f"AND c.kind IN ({', '.join(['%s'] * len(scope.kinds))})")
        params.extend(sorted(scope.kinds))
    sql.append("ORDER BY c.cursor LIMIT %s")
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(" ".join(sql), params)
        rows = cursor.fetchall()
    dumps = orjson.dumps
    return [
        FeedEntry(
            cursor=row[0],
            course=row[1],
            kind=row[6],
            op=row[5],
            json=dumps(
                {
                    "cursor": row[0],
                    "course": row[1],
                    "run": row[2],
                    "version": row[3],
                    "time": _time(row[4]),
                    "op": row[5],
                    "kind": row[6],
                    "id": row[7],
                    "before": _fragment(row[8]),
                    "after": _fragment(row[9]),
                }
            ),
        )
        for row in rows
    ]


def feed_page(*, after: int, limit: int, scope: Scope) -> tuple[list[FeedEntry], int]:
    """A page of the feed and the cursor to resume from. When the page is not full, every
    change up to the feed's head has been looked at, so the reader resumes from the head
    (a filtered reader skips what it may not see)."""
    head = feed_head()  # read first: every change up to it has committed
    entries = feed_read(after=after, limit=limit, scope=scope, upto=head)
    if len(entries) == max(1, min(limit, MAX_PAGE)):
        return entries, entries[-1].cursor
    return entries, max(after, head)
