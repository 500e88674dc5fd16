"""Reading the inbox."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from eduvault.connectors.models import Source
from eduvault.exceptions import NotFound
from eduvault.inbox.models import InboundEvent


class EventNotFound(NotFound):
    """No such event in the inbox."""


def event_list(
    *, status: str | None = None, source: Source | None = None, course_key: str | None = None
) -> QuerySet[InboundEvent]:
    events = InboundEvent.objects.select_related("source", "run").order_by("-id")
    if status:
        events = events.filter(status=status)
    if source is not None:
        events = events.filter(source=source)
    if course_key:
        events = events.filter(course_key=course_key)
    return events


def event_get(*, event_id: int) -> InboundEvent:
    try:
        return InboundEvent.objects.select_related("source", "run").get(pk=event_id)
    except InboundEvent.DoesNotExist:
        raise EventNotFound(f"there is no event {event_id} in the inbox") from None


def inbox_counts() -> dict[str, dict[str, int]]:
    """{priority: {status: count}} over the whole inbox."""
    out: dict[str, dict[str, int]] = {}
    rows = InboundEvent.objects.values("priority", "status").annotate(n=Count("id"))
    for row in rows:
        out.setdefault(row["priority"], {})[row["status"]] = row["n"]
    return out
