"""Handing out feed cursors, and telling listeners that the feed moved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from eduvault.feed.models import FeedCounter, FeedEvent
from eduvault.inbox.types import PRIORITIES

#: The PostgreSQL NOTIFY channel (and Redis pub/sub channel) that carries the feed's head.
CHANNEL = "eduvault_feed"


def feed_reserve(count: int) -> int:
    """Reserve ``count`` cursors for changes written in the current transaction; returns the
    first. The counter row stays locked until the transaction ends (see FeedCounter)."""
    if not connection.in_atomic_block:
        raise RuntimeError("feed cursors are reserved inside the transaction that writes the changes")
    updated = FeedCounter.objects.filter(pk=1).update(head=F("head") + count)
    if not updated:  # a database whose counter row was never created
        FeedCounter.objects.get_or_create(pk=1, defaults={"head": 0})
        FeedCounter.objects.filter(pk=1).update(head=F("head") + count)
    head = FeedCounter.objects.filter(pk=1).values_list("head", flat=True).get()
    transaction.on_commit(lambda: feed_announce(head))
    if connection.vendor == "postgresql":
        # Delivered by PostgreSQL at commit, to every listening process, in commit order.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(head)])
    return head - count + 1


def feed_publish(
    *, course_id: int, kind: str, op: str, external_id: str, data: dict[str, Any], priority: str
) -> FeedEvent:
    """Put an event other than a course change (a grade, a mastery) in the feed, inside the
    caller's transaction: it is published if and only if that commits."""
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority class {priority!r}")
    return FeedEvent.objects.create(
        cursor=feed_reserve(1),
        course_id=course_id,
        kind=kind,
        op=op,
        external_id=external_id,
        priority=priority,
        data=data,
        created_at=timezone.now(),
    )


def feed_head() -> int:
    """The last cursor of a committed change."""
    return FeedCounter.objects.filter(pk=1).values_list("head", flat=True).first() or 0


#: Callables woken when a change commits in this process (the webhook deliverer).
_listeners: list[Callable[[], None]] = []


def listen_locally(wake: Callable[[], None]) -> None:
    _listeners.append(wake)


def stop_listening(wake: Callable[[], None]) -> None:
    if wake in _listeners:
        _listeners.remove(wake)


def feed_announce(head: int) -> None:
    """After commit: wake this process's streams and deliverer at once, and other processes
    over Redis when configured (PostgreSQL's NOTIFY already reached them)."""
    from eduvault.feed import broadcast

    broadcast.local_announce(head)
    for wake in list(_listeners):
        wake()
    url = settings.EDUVAULT_NOTIFY_URL
    if url.startswith("redis"):
        broadcast.redis_publish(url, head)
