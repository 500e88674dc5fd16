"""The inbox's ``course`` work: an event said a course's structure changed; read it again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eduvault.integrations.models import Source
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.inbox.work import work_handler
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.services import course_sync


@work_handler("course")
def sync_course(*, source: Source, key: str, events: Sequence[InboundEvent]) -> dict[str, Any]:
    """One sync for every pending event of the course (they are triggers: the platform's
    current structure is read, so their order and number do not matter)."""
    run = course_sync(
        course_key=key,
        source=source,
        trigger=SyncRun.Trigger.BUS if events[-1].via == InboundEvent.Via.BUS else SyncRun.Trigger.WEBHOOK,
        actor=source.name,
        detail={"events": [e.event_id for e in events[-20:]], "count": len(events)},
    )
    return {"run": run.pk, "outcome": run.outcome, "version": run.version_after}
