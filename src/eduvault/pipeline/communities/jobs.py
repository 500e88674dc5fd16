"""The community reconcile: every so often each community is brought in step again, and
the forums' accounts are matched to people (learners who made an account since)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from eduvault.kernel.periodic import periodic
from eduvault.pipeline.communities.services import communities_reconcile


@periodic(
    "communities.reconcile", every=lambda: settings.EDUVAULT_COMMUNITY_RECONCILE_SECONDS, exclusive=True
)
def reconcile() -> dict[str, Any]:
    return communities_reconcile()
