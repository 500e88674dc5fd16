"""The records reconcile: platforms say their events are best effort (Canvas: "not
sequenced", lost while we are down), so every so often the records of the courses Edu Vault
follows are read back from each platform that can be read, and whatever was lost is
repaired. What we hold already is a duplicate and changes nothing."""

from __future__ import annotations

from typing import Any

import structlog
from django.conf import settings

from eduvault.kernel.errors import EduVaultError
from eduvault.kernel.periodic import periodic
from eduvault.pipeline.records.reconcile import records_reconcile

log = structlog.get_logger(__name__)


@periodic("records.reconcile", every=lambda: settings.EDUVAULT_RECORDS_RECONCILE_SECONDS, exclusive=True)
def reconcile() -> dict[str, Any]:
    try:
        return records_reconcile()
    except EduVaultError as exc:  # a source that cannot be read now is tried next time
        log.warning("records.reconcile_failed", error=str(exc))
        return {"failed": str(exc)}
