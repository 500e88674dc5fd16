"""The sync's periodic work: the reconcile, one worker at a time, every
``EDUVAULT_RECONCILE_SECONDS`` (the safety net for events a platform lost)."""

from __future__ import annotations

from django.conf import settings

from eduvault.kernel.periodic import periodic
from eduvault.pipeline.sync.services import sources_reconcile


@periodic("sync.reconcile", every=lambda: settings.EDUVAULT_RECONCILE_SECONDS, exclusive=True)
def reconcile() -> dict[str, int]:
    return sources_reconcile()
