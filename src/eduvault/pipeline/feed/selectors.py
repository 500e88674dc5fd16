"""Reading the change feed: entries in cursor order, filtered by scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import connection
from django.db.models import Count, QuerySet

from eduvault.identity.models import ApiToken
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.feed.models import FeedCounter, FeedEntry, Subscription
from eduvault.pipeline.outbox.models import Delivery, DeliveryAttempt

#: Most entries one feed page returns.
MAX_PAGE = 1000


def feed_head() -> int:
    """The last cursor of a committed entry."""
    return FeedCounter.objects.filter(pk=1).values_list("head", flat=True).first() or 0


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

    def narrowed(self, *, courses: Iterable[str] = (), kinds: Iterable[str] = ()) -> Scope:
        """This scope, narrowed by what the reader asked for."""
        return Scope(
            _narrow(self.courses, frozenset(c for c in courses if c)),
            _narrow(self.kinds, frozenset(k for k in kinds if k)),
        )

    def allows(self, course: str, kind: str) -> bool:
        return (self.courses is None or course in self.courses) and (self.kinds is None or kind in self.kinds)


def _narrow(allowed: frozenset[str] | None, wanted: frozenset[str]) -> frozenset[str] | None:
    if not wanted:
        return allowed
    return wanted if allowed is None else allowed & wanted


@dataclass(frozen=True)
class FeedItem:
    """An entry as readers get it."""

    cursor: int
    course: str
    kind: str
    op: str
    #: The entry as the feed, the stream and webhooks send it, serialized once.
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


def feed_read(*, after: int, limit: int, scope: Scope = Scope(), upto: int | None = None) -> list[FeedItem]:
    """Entries with ``after < cursor <= upto``, in cursor order, that ``scope`` allows.

    One indexed range scan; the course keys the entries carry come from one small lookup, not
    from a join on every row.
    """
    limit = max(1, min(limit, MAX_PAGE))
    if (scope.courses is not None and not scope.courses) or (scope.kinds is not None and not scope.kinds):
        return []
    course_ids = None
    if scope.courses is not None:
        course_ids = _course_ids(scope.courses)
        if not course_ids:
            return []
    pg = connection.vendor == "postgresql"
    text = "::text" if pg else ""
    table = connection.ops.quote_name(FeedEntry._meta.db_table)
    sql = [
        "SELECT cursor, course_id, run, version, op, kind, external_id, priority, "
        f"before{text}, after{text}, created_at FROM {table} WHERE cursor > %s AND cursor <= %s"
    ]
    params: list[Any] = [after, upto if upto is not None else 2**62]
    if course_ids is not None:
        sql.append(f"AND course_id IN ({', '.join(['%s'] * len(course_ids))})")
        params.extend(course_ids)
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
    keys = _course_keys({row[1] for row in rows if row[1] is not None})
    dumps = orjson.dumps
    out = []
    for cursor_, course_id, run, version, op, kind, external_id, priority, before, after_, created in rows:
        course = keys.get(course_id, "")
        out.append(
            FeedItem(
                cursor=cursor_,
                course=course,
                kind=kind,
                op=op,
                json=dumps(
                    {
                        "cursor": cursor_,
                        "course": course or None,
                        "run": run,
                        "version": version,
                        "time": _time(created),
                        "priority": priority,
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


def feed_page(*, after: int, limit: int, scope: Scope) -> tuple[list[FeedItem], int]:
    """A page of the feed and the cursor to resume from. When the page is not full, every
    entry up to the feed's head has been looked at, so the reader resumes from the head
    (a filtered reader skips what it may not see)."""
    head = feed_head()  # read first: every entry up to it has committed
    entries = feed_read(after=after, limit=limit, scope=scope, upto=head)
    if len(entries) == max(1, min(limit, MAX_PAGE)):
        return entries, entries[-1].cursor
    return entries, max(after, head)


def _course_keys(ids: set[int]) -> dict[int, str]:
    return dict(Course.objects.filter(pk__in=ids).values_list("pk", "key"))


def _course_ids(keys: frozenset[str]) -> list[int]:
    return sorted(Course.objects.filter(key__in=keys).values_list("pk", flat=True))


# -- subscriptions ---------------------------------------------------------------------------------


def subscription_attempts(*, subscription: Subscription) -> QuerySet[DeliveryAttempt]:
    """A subscription's delivery attempts, newest first."""
    return (
        DeliveryAttempt.objects.filter(delivery__target=subscription.target)
        .select_related("delivery")
        .order_by("-id")
    )


def subscriptions_health() -> list[dict[str, Any]]:
    """Every subscription with how its deliveries stand: how many wait, and how the oldest
    waiting one fares (its attempts, since when it has been failing, when it is tried next)."""
    subscriptions = list(Subscription.objects.select_related("token"))
    targets = [s.target for s in subscriptions]
    waiting = dict(
        Delivery.objects.filter(target__in=targets, status__in=("pending", "sending"))
        .values_list("target")
        .annotate(n=Count("id"))
        .values_list("target", "n")
    )
    out = []
    for s in subscriptions:
        head = (
            Delivery.objects.filter(target=s.target, status__in=("pending", "sending")).order_by("id").first()
        )
        last = DeliveryAttempt.objects.filter(delivery__target=s.target).order_by("-id").first()
        out.append(
            {
                "id": s.pk,
                "name": s.name,
                "url": s.url,
                "courses": s.courses,
                "kinds": s.kinds,
                "ops": s.ops,
                "token": s.token.name if s.token else None,
                "enabled": s.enabled,
                "disabled_reason": s.disabled_reason,
                "disabled_at": s.disabled_at,
                "cursor": s.cursor,
                "waiting": waiting.get(s.target, 0),
                "attempts": head.attempts if head else 0,
                "next_attempt_at": head.next_attempt_at if head else None,
                "failing_since": head.failing_since if head else None,
                "last_attempt": None
                if last is None
                else {
                    "delivery_id": last.delivery.idempotency_key,
                    "ok": last.ok,
                    "status_code": last.status_code,
                    "latency_ms": last.latency_ms,
                    "error": last.error,
                    "at": last.created_at,
                },
                "created_at": s.created_at,
            }
        )
    return out
