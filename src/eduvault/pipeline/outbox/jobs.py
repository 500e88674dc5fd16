"""The outbox's periodic work: the deliverer (woken when deliveries commit in this process)
and the sweep that takes back what dead workers held."""

from __future__ import annotations

from django.conf import settings

from eduvault.kernel.leases import worker_name
from eduvault.kernel.periodic import periodic
from eduvault.pipeline.outbox.services import (
    deliveries_dispatch,
    deliveries_run,
    deliveries_sweep,
    listen_locally,
    stop_listening,
)


@periodic(
    "outbox.deliver",
    every=lambda: settings.EDUVAULT_DELIVER_SECONDS,
    listen=listen_locally,
    unlisten=stop_listening,
)
def deliver() -> dict[str, int]:
    """Send what is due, pass after pass, until nothing more is sent; with a broker, hand
    each target with deliveries due to a worker of its class instead."""
    if settings.EDUVAULT_BROKER_URL:
        return {"published": deliveries_dispatch()}
    owner = worker_name()
    totals: dict[str, int] = {}
    while True:
        counts = deliveries_run(owner=owner)
        for state, n in counts.items():
            totals[state] = totals.get(state, 0) + n
        if not counts.get("delivered"):
            return totals


@periodic("outbox.sweep", every=lambda: settings.EDUVAULT_SWEEP_SECONDS)
def sweep() -> dict[str, int]:
    return deliveries_sweep()
