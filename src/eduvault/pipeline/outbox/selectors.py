"""Reading the outbox."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from eduvault.kernel.errors import NotFound
from eduvault.kernel.validation import one_of
from eduvault.pipeline.outbox.models import Delivery


class DeliveryNotFound(NotFound):
    """No such delivery in the outbox."""


def delivery_list(
    *, status: str | None = None, target: str | None = None, channel: str | None = None
) -> QuerySet[Delivery]:
    rows = Delivery.objects.order_by("-id")
    status = one_of(status, "status", Delivery.Status.values)
    if status:
        rows = rows.filter(status=status)
    if target:
        rows = rows.filter(target=target)
    if channel:
        rows = rows.filter(channel=channel)
    return rows


def delivery_get(*, delivery_id: int) -> Delivery:
    try:
        return Delivery.objects.get(pk=delivery_id)
    except Delivery.DoesNotExist:
        raise DeliveryNotFound(f"there is no delivery {delivery_id} in the outbox") from None


def delivery_data(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "target": delivery.target,
        "channel": delivery.channel,
        "idempotency_key": delivery.idempotency_key,
        "priority": delivery.priority,
        "summary": delivery.summary,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "failing_since": delivery.failing_since,
        "last_error": delivery.last_error,
        "last_error_code": delivery.last_error_code,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
    }


def outbox_counts() -> dict[str, dict[str, int]]:
    """{channel: {status: count}} over the whole outbox."""
    out: dict[str, dict[str, int]] = {}
    for row in Delivery.objects.values("channel", "status").annotate(n=Count("id")):
        out.setdefault(row["channel"], {})[row["status"]] = row["n"]
    return out
