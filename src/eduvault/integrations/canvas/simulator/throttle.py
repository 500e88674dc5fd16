"""Canvas's request throttle: a leaky bucket per access token.

Ported from instructure/canvas-lms ``app/middleware/request_throttle.rb`` and
``app/middleware/request_throttle/increment_bucket.lua`` (documented in ``doc/api/throttling.md``):

- each client (here: each access token, else the caller's address) has a bucket with a
  ``count`` that leaks ``outflow`` units per second; an increment leaks first, then adds, then
  clamps to ``[0, maximum]``;
- a request first reserves ``up_front_cost`` (the "pre-flight penalty" that makes parallel
  requests expensive); if the bucket is then full (``count >= hwm``) the request is refused;
  when it finishes the reservation is replaced by its real cost (``cost - up_front_cost``);
- every response carries ``X-Rate-Limit-Remaining: hwm - count`` and, unless it was throttled,
  ``X-Request-Cost``; the refusal is ``403`` with ``403 Forbidden (Rate Limit Exceeded)``
  (text/plain) on Canvas until 2025-10, ``429`` since ("API Rate Limit Error Updated").

Canvas's defaults are ``maximum 800, hwm 600, outflow 10, up_front_cost 50``. Canvas charges CPU
plus database seconds; the simulator charges a fixed ``request_cost`` per request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

#: rack's status texts, as ``"#{status} #{Rack::Utils::HTTP_STATUS_CODES[status]} (Rate Limit Exceeded)"``.
_STATUS_TEXT = {403: "Forbidden", 429: "Too Many Requests"}


def rate_limit_body(status: int) -> bytes:
    return f"{status} {_STATUS_TEXT.get(status, 'Forbidden')} (Rate Limit Exceeded)\n".encode()


@dataclass
class ThrottleSettings:
    hwm: float = 600.0
    maximum: float = 800.0
    outflow: float = 10.0
    up_front_cost: float = 50.0
    request_cost: float = 1.0
    status: int = 429
    enabled: bool = True


@dataclass
class _Bucket:
    count: float = 0.0
    last_touched: float | None = None


@dataclass
class Throttle:
    settings: ThrottleSettings = field(default_factory=ThrottleSettings)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _increment(self, client: str, amount: float) -> float:
        """``increment_bucket.lua``: leak, add, clamp; returns the new count."""
        s = self.settings
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault(client, _Bucket())
            last = now if bucket.last_touched is None else bucket.last_touched
            count = bucket.count
            if count > 0:
                loss = s.outflow * (now - last)
                if loss > 0:
                    count -= loss
            count = min(max(count + amount, 0.0), s.maximum)
            bucket.count, bucket.last_touched = count, now
            return count

    def reserve(self, client: str) -> bool:
        """Charge the up-front cost; False when the bucket is full and the request is refused."""
        if not self.settings.enabled:
            return True
        return self._increment(client, self.settings.up_front_cost) < self.settings.hwm

    def settle(self, client: str, cost: float) -> float:
        """Replace the reservation by the real cost; returns ``X-Rate-Limit-Remaining``."""
        if not self.settings.enabled:
            return self.settings.hwm
        count = self._increment(client, cost - self.settings.up_front_cost)
        return self.settings.hwm - count

    def remaining(self, client: str) -> float:
        return self.settings.hwm - self._increment(client, 0.0)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
