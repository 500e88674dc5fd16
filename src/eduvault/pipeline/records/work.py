"""The inbox's ``record`` work: a platform reported learner records (a grade changed, a
learner enrolled or completed a course). The events of one record are applied together; their
order does not matter (the merge is order-independent), and a repeat changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eduvault.integrations.base import RecordFacts
from eduvault.integrations.models import Source
from eduvault.kernel.errors import InvalidEvent
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.inbox.work import work_handler
from eduvault.pipeline.records.services import records_ingest


@work_handler("record", coalesce=False)
def apply_records(*, source: Source, key: str, events: Sequence[InboundEvent]) -> dict[str, Any]:
    facts: list[RecordFacts] = []
    for event in events:
        try:
            facts.extend(RecordFacts.from_json(item) for item in (event.payload or {}).get("records", []))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidEvent(
                f"event {event.event_id} carries records Edu Vault cannot read: {exc}"
            ) from None
    applied = records_ingest(source=source, facts=facts)
    return {"records": applied.records, **{k: v for k, v in applied.counts().items() if k != "records"}}
