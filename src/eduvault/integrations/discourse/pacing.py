"""Pacing the calls to one Discourse so that its admin API rate limit is never reached.

Discourse limits an admin API key to ``max_admin_api_reqs_per_minute`` requests (60 by
default), counted by its ``RateLimiter`` over a *sliding* 60-second window: a request is
refused with 429 when ``per_minute`` requests were already made in the last 60 seconds.

A token bucket that holds ``burst`` tokens and refills at ``rate`` a second lets through at
most ``burst + rate * 60`` requests in any 60 seconds (a full bucket, then a minute of
refill). A bucket refilling at ``per_minute / 60`` would therefore run ahead of the window
by a whole burst. So this bucket refills at ``(per_minute - burst) / 60`` a second: a burst
and the minute after it together stay within ``per_minute``, whatever the timing.

That is why the burst is small by default (``per_minute // 10``, at least 1: 6 at 60 a
minute): a handful of calls, such as a webhook's follow-up reads, go out at once, while a
long sync keeps 90 % of the allowed pace (54 a minute at 60). A large burst would buy short
spurts with a slower sustained pace; a burst of 1 gives the fastest steady pace but makes
every call after the first wait about a second.

One bucket per key per process (:func:`bucket_for`): every client of one source in a process
shares its pace. Separate processes (workers) each have their own; the client's 429 handling
covers what they add together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def default_burst(per_minute: int) -> int:
    return max(1, int(per_minute) // 10)


class TokenBucket:
    """At most ``per_minute`` takes in any 60 seconds, at most ``burst`` at once."""

    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if isinstance(per_minute, bool) or not isinstance(per_minute, (int, float)) or per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, not {per_minute!r}")
        burst = default_burst(int(per_minute)) if burst is None else int(burst)
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst!r}")
        burst = min(burst, max(1, int(per_minute) - 1))
        self.per_minute = per_minute
        self.burst = burst
        #: Tokens a second: what a burst leaves of the minute's allowance, spread over it.
        self.rate = max(per_minute - burst, 1) / 60.0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._stamp = clock()

    def __repr__(self) -> str:
        return f"TokenBucket(per_minute={self.per_minute}, burst={self.burst})"

    def take(self) -> float:
        """Take one token, sleeping until it is there; returns the seconds waited.

        A caller reserves its token under the lock (the count may go below zero) and then
        sleeps outside it for as long as its reservation needs, so callers are served in
        the order they came and none busy-waits."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._stamp)
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait

    def available(self) -> float:
        """Tokens there now (negative while callers are waiting), taking nothing."""
        with self._lock:
            elapsed = max(0.0, self._clock() - self._stamp)
            return min(float(self.burst), self._tokens + elapsed * self.rate)


_buckets: dict[str, TokenBucket] = {}
_buckets_lock = threading.Lock()


def bucket_key(base_url: str, api_username: str, source: str = "") -> str:
    """The key of one source's pace: its name, its Discourse, the user the key acts as."""
    return f"{source}|{base_url.strip().rstrip('/').lower()}|{api_username.strip().lower()}"


def bucket_for(key: str, per_minute: int) -> TokenBucket:
    """The process's bucket for ``key``, made on first use. A later call with another
    ``per_minute`` (the source's settings changed) replaces it."""
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None or bucket.per_minute != per_minute:
            bucket = _buckets[key] = TokenBucket(per_minute)
        return bucket
