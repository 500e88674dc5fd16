"""Celery tasks of the outbox: thin entry points that call one service.

With a broker, the deliverer publishes one ``eduvault.outbox.send`` task per target with
deliveries due, routed by priority class, kind and platform (``critical.grade.canvas``), so
that workers of one class send only that class's deliveries. A task lost on the way costs
nothing: the deliveries stay due and the deliverer publishes again.
"""

from __future__ import annotations

from eduvault.kernel.celery import app, configure
from eduvault.kernel.leases import worker_name
from eduvault.pipeline.outbox.services import SEND_TASK, target_send

configure()


@app.task(name=SEND_TASK)
def send(target: str, channel: str, priority: str | None = None) -> dict[str, int]:
    """Send one round of one class's deliveries to one target."""
    return target_send(target=target, channel_name=channel, owner=worker_name(), priority=priority)
