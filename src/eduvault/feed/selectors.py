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
    """Changes with ``after < cursor <= upto``, in cursor order, that ``scope`` allows.

    One indexed range scan of the change table; the course keys and run details the entries
    carry come from two small lookups, not from a join on every row.
    """
    limit = max(1, min(limit, MAX_PAGE))
    if (scope.courses is not None and not scope.courses) or (scope.kinds is not None and not scope.kinds):
        return []
    text = "::text" if connection.vendor == "postgresql" else ""
    sql = [
        f"SELECT cursor, course_id, run_id, op, kind, external_id, before{text}, after{text} "
        "FROM sync_change WHERE cursor > %s"
    ]
    params: list[Any] = [after]
    if upto is not None:
        sql.append("AND cursor <= %s")
        params.append(upto)
    if scope.courses is not None:
        ids = _course_ids(scope.courses)
        if not ids:
            return []
        sql.append(f"AND course_id IN ({', '.join(['%s'] * len(ids))})")
        params.extend(ids)
    if scope.kinds is not None:
        sql.append(f"AND kind IN ({', '.join(['%s'] * len(scope.kinds))})")
        params.extend(sorted(scope.kinds))
    sql.append("ORDER BY cursor LIMIT %s")
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(" ".join(sql), params)
        rows = cursor.fetchall()
    if not rows:
        return []
    keys = _course_keys({row[1] for row in rows})
    runs = _runs({row[2] for row in rows})
    dumps = orjson.dumps
    out = []
    for cursor_, course_id, run_id, op, kind, external_id, before, after_ in rows:
        course = keys[course_id]
        version, time = runs[run_id]
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
