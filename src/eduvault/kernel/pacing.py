"""Pacing calls to one target: a token bucket, so a platform's rate limit is never reached.

Thread-safe; one bucket per target per process. ``acquire`` waits (sleeps) until a token is
free, up to a bound, and says how long it waited.
"""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """At most ``rate`` calls a second on average, in bursts of at most ``burst``."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self, tokens: float = 1.0) -> float:
        """Seconds until ``tokens`` are free (0 when they are now), taking nothing."""
        with self._lock:
            self._refill(time.monotonic())
            return max(0.0, (tokens - self._tokens) / self.rate)

    def acquire(self, tokens: float = 1.0, *, max_wait: float = 60.0) -> float:
        """Take ``tokens``, sleeping until they are free; returns the seconds slept. Raises
        ``TimeoutError`` rather than sleep longer than ``max_wait``."""
        slept = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                self._refill(now)
                if self._tokens >= tokens:
                    self._tokens -= tokens
                    return slept
                wait = (tokens - self._tokens) / self.rate
            if slept + wait > max_wait:
                raise TimeoutError(f"no capacity within {max_wait:.0f} s")
            time.sleep(wait)
            slept += wait


class Buckets:
    """One :class:`TokenBucket` per key (a target), made on first use."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
            return bucket
