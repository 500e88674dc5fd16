"""The inbox's periodic work: the sweep every worker runs (leases of dead workers, events a
broker lost, subjects no broker consumer picked up)."""

from __future__ import annotations

from django.conf import settings

from eduvault.kernel.periodic import periodic
from eduvault.pipeline.inbox.services import inbox_sweep


@periodic("inbox.sweep", every=lambda: settings.EDUVAULT_SWEEP_SECONDS)
def sweep() -> dict[str, int]:
    return inbox_sweep(process_overdue=True)
