"""Celery tasks: thin entry points that call one service."""

from __future__ import annotations

from django.utils import timezone

from eduvault.kernel.celery import app, configure
from eduvault.pipeline.inbox import dispatch
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.inbox.services import event_process

configure()


@app.task(name=dispatch.PROCESS_TASK)
def process_event(event_id: int) -> str:
    """Process the subject of one stored event (with every other pending event of it)."""
    outcome = event_process(event_id=event_id)
    if outcome.state == "waiting" and outcome.due_at is not None:
        # The subject is in a burst: come back when it is due (a short countdown).
        event = InboundEvent.objects.filter(pk=event_id).first()
        if event is not None:
            countdown = max(0.0, (outcome.due_at - timezone.now()).total_seconds())
            dispatch.subject_dispatch(event, countdown=countdown)
    return outcome.state
