"""Transfer sessions left behind (a device that never came back to finish one, frames of
finished pulls) are forgotten after a while: a device that returns later starts a new one."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from eduvault.kernel.periodic import periodic
from eduvault.learning.devices.services import sessions_purge


@periodic("devices.sessions_purge", every=lambda: settings.EDUVAULT_PURGE_SECONDS, exclusive=True)
def purge() -> dict[str, Any]:
    return {"purged": sessions_purge()}
