"""Identity's periodic work: forget what has expired (refresh tokens a day past their end,
sign-in failure counts whose window has closed)."""

from __future__ import annotations

from django.conf import settings

from eduvault.identity.services import refresh_tokens_purge
from eduvault.identity.throttling import sign_in_failures_purge
from eduvault.kernel.periodic import periodic


@periodic("identity.purge", every=lambda: settings.EDUVAULT_PURGE_SECONDS, exclusive=True)
def purge() -> dict[str, int]:
    return {"refresh_tokens": refresh_tokens_purge(), "sign_in_counts": sign_in_failures_purge()}
