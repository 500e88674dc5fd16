"""Reading the inbox."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from eduvault.integrations.models import Source
from eduvault.kernel.errors import NotFound
from eduvault.kernel.validation import one_of
from eduvault.pipeline.inbox.models import InboundEvent


class EventNotFound(NotFound):
    """No such event in the inbox."""


def event_list(
    *, status: str | None = None, source: Source | None = None, subject_key: str | None = None
) -> QuerySet[InboundEvent]:
    events = InboundEvent.objects.select_related("source").order_by("-id")
    status = one_of(status, "status", InboundEvent.Status.values)
    if status:
        events = events.filter(status=status)
    if source is not None:
        events = events.filter(source=source)
    if subject_key:
        events = events.filter(subject_key=subject_key)
    return events


def event_get(*, event_id: int) -> InboundEvent:
    try:
        return InboundEvent.objects.select_related("source").get(pk=event_id)
    except InboundEvent.DoesNotExist:
        raise EventNotFound(f"there is no event {event_id} in the inbox") from None


def inbox_counts() -> dict[str, dict[str, int]]:
    """{priority: {status: count}} over the whole inbox."""
    out: dict[str, dict[str, int]] = {}
    rows = InboundEvent.objects.values("priority", "status").annotate(n=Count("id"))
    for row in rows:
        out.setdefault(row["priority"], {})[row["status"]] = row["n"]
    return out
