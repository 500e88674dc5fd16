"""Discourse's admin API rate limit, as ``RateLimiter`` counts it.

Sources: discourse/discourse ``lib/auth/default_current_user_provider.rb`` (``admin_api_key_limiter``:
``RateLimiter.new(nil, "admin_api_min", GlobalSetting.max_admin_api_reqs_per_minute, 60,
error_code: "admin_api_key_rate_limit")``, performed after the key is accepted), ``lib/rate_limiter.rb``
and ``lib/rate_limiter/limit_exceeded.rb``, ``ApplicationController``'s ``rescue_from
RateLimiter::LimitExceeded``.

- The limiter is a ring buffer of the last ``max`` request times in whole seconds
  (``Time.now.to_i``): a request passes while fewer than ``max`` are recorded or the oldest of
  them is at least ``secs`` old; otherwise it waits ``secs - (now - oldest)`` seconds.
- Its key has no user and no API key in it (``admin_api_min``): since Discourse 2.9 every admin API
  key of a site shares the one budget (``per_key=True`` gives each key its own instead).
- A refusal is ``429`` with ``Retry-After`` and ``Discourse-Rate-Limit-Error-Code:
  admin_api_key_rate_limit`` headers and ``{"errors": [...], "error_type": "rate_limit",
  "extras": {"wait_seconds": N, "time_left": "..."}}``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from eduvault.integrations.discourse.simulator.rules import TOO_MANY_REQUESTS, time_left

ERROR_CODE = "admin_api_key_rate_limit"


@dataclass
class Refusal:
    wait_seconds: int

    @property
    def body(self) -> dict[str, object]:
        left = time_left(self.wait_seconds)
        return {
            "errors": [TOO_MANY_REQUESTS.format(left)],
            "error_type": "rate_limit",
            "extras": {"wait_seconds": self.wait_seconds, "time_left": left},
        }

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.wait_seconds), "Discourse-Rate-Limit-Error-Code": ERROR_CODE}


class AdminApiLimiter:
    def __init__(
        self,
        per_minute: int = 60,
        *,
        clock: Callable[[], float],
        enabled: bool = True,
        per_key: bool = False,
        window: int = 60,
    ) -> None:
        self.per_minute = per_minute
        self.window = window
        self.enabled = enabled
        self.per_key = per_key
        self.clock = clock
        self._buffers: dict[str, deque[int]] = {}
        self._lock = threading.Lock()

    def perform(self, api_key: str) -> Refusal | None:
        """Count one admin API request; a :class:`Refusal` when over the limit (not counted)."""
        if not self.enabled:
            return None
        now = int(self.clock())
        scope = f"admin_api_min:{api_key}" if self.per_key else "admin_api_min"
        with self._lock:
            ring = self._buffers.setdefault(scope, deque())
            if self.per_minute <= 0:
                return Refusal(self.window)
            if len(ring) < self.per_minute or now - ring[-1] >= self.window:
                ring.appendleft(now)
                while len(ring) > self.per_minute:
                    ring.pop()
                return None
            return Refusal(max(self.window - (now - ring[-1]), 0))

    def remaining(self, api_key: str = "") -> int:
        now = int(self.clock())
        scope = f"admin_api_min:{api_key}" if self.per_key else "admin_api_min"
        with self._lock:
            ring = self._buffers.get(scope, deque())
            return self.per_minute - sum(1 for t in ring if now - t <= self.window)

    def reset(self) -> None:
        with self._lock:
            self._buffers.clear()
