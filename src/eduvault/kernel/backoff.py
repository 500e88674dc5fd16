"""When to try failed work again: exponential backoff with jitter (the one implementation)."""

from __future__ import annotations

import random

from django.conf import settings


def retry_delay(
    attempts: int,
    *,
    base: float | None = None,
    cap: float | None = None,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait after the ``attempts``-th failure: about ``base * 2**(attempts-1)``,
    capped at ``cap``, drawn from the upper half of that range (so that workers retrying
    together spread out), and never less than what the other side asked for (a 429's
    ``Retry-After``). ``base`` and ``cap`` default to ``EDUVAULT_RETRY_BASE_SECONDS`` and
    ``EDUVAULT_RETRY_MAX_SECONDS``."""
    if base is None or cap is None:
        base = settings.EDUVAULT_RETRY_BASE_SECONDS if base is None else base
        cap = settings.EDUVAULT_RETRY_MAX_SECONDS if cap is None else cap
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return max(delay, retry_after or 0.0)
