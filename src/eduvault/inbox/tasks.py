"""Celery tasks: thin entry points that call one service."""

from __future__ import annotations

from django.utils import timezone

from eduvault.celery import app, configure
from eduvault.inbox import dispatch
from eduvault.inbox.models import InboundEvent
from eduvault.inbox.services import event_process

configure()


@app.task(name="eduvault.inbox.process")
def process_event(event_id: int) -> str:
    """Process the course of one stored event (with every other pending event of it)."""
    outcome = event_process(event_id=event_id)
    if outcome.state == "waiting" and outcome.due_at is not None:
        # The course is in a burst: come back when it is due (a short countdown).
        event = InboundEvent.objects.filter(pk=event_id).first()
        if event is not None:
            countdown = max(0.0, (outcome.due_at - timezone.now()).total_seconds())
            dispatch.course_dispatch(event, countdown=countdown)
    return outcome.state
