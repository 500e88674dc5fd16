"""Rosters after launches: every so often, the contexts launched from whose roster is older
than a day (or never read) are read again from their platforms (NRPS)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from eduvault.integrations.lti.services import logins_purge as lti_logins_purge
from eduvault.kernel.errors import EduVaultError
from eduvault.kernel.periodic import periodic
from eduvault.learning.lti.models import LtiContext
from eduvault.learning.lti.services import roster_read

log = structlog.get_logger(__name__)

#: A roster read longer ago than this is read again.
ROSTER_MAX_AGE = timedelta(days=1)
#: Rosters read in one run, at most (each is a few requests to its platform).
ROSTERS_A_RUN = 20


@periodic("lti.rosters", every=lambda: settings.EDUVAULT_LTI_ROSTER_SECONDS, exclusive=True)
def rosters() -> dict[str, Any]:
    stale = timezone.now() - ROSTER_MAX_AGE
    due = (
        LtiContext.objects.exclude(memberships_url="")
        .filter(course__isnull=False, source__enabled=True)
        .filter(Q(roster_read_at__isnull=True) | Q(roster_read_at__lt=stale))
        .select_related("source")
        .order_by("roster_read_at")[:ROSTERS_A_RUN]
    )
    read, failed = 0, 0
    for context in due:
        try:
            roster_read(context=context)
            read += 1
        except EduVaultError as exc:  # a platform that cannot be read now is tried next time
            failed += 1
            log.warning("lti.roster_failed", platform=context.source.name, context=context.context_id, error=str(exc))
    return {"read": read, "failed": failed}


@periodic("lti.logins_purge", every=lambda: settings.EDUVAULT_PURGE_SECONDS, exclusive=True)
def logins_purge() -> dict[str, Any]:
    """Logins older than a day are of no use (a state is good for ten minutes): forget them."""
    return {"purged": lti_logins_purge()}
