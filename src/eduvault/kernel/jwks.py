"""A platform's published signing keys (a JWKS URL), fetched lazily and cached.

Used wherever a platform signs what it sends us: Canvas Live Events, LTI launches. The key
set is fetched on first use, kept for the time its ``Cache-Control: max-age`` (or
``Expires``) says, within bounds, else ``refresh_every``; a token naming a ``kid`` not in hand
makes it fetch again (a key rotated in since), at most once per ``min_refetch_interval``, so
forged tokens cannot make it hammer the URL. It never follows a token's ``jku``/``x5u``: the
URL is the one the operator registered. Thread-safe.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import jwt
import orjson

from eduvault import __version__
from eduvault.kernel.errors import AuthenticationFailed, SourceUnavailable

#: A JWKS document longer than this is not accepted.
MAX_JWKS_BYTES = 1024 * 1024
#: After a failed fetch, try again after at most this long (or min_refetch_interval if shorter).
FAILED_FETCH_RETRY = 5.0
#: What a platform's cache headers may ask for: at least a minute, at most a day.
MIN_CACHE, MAX_CACHE = 60.0, 86_400.0
_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*(\d+)", re.IGNORECASE)


class RemoteKeySet:
    def __init__(
        self,
        url: str,
        *,
        what: str = "signing keys",
        algorithms: Iterable[str] = ("RS256",),
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
        refresh_every: float = 3600.0,
        min_refetch_interval: float = 60.0,
    ) -> None:
        self.url = url
        self.what = what
        self.algorithms = tuple(algorithms)
        self.host = httpx.URL(url).host or url
        self.refresh_every = refresh_every
        self.min_refetch_interval = min_refetch_interval
        self._clock = clock
        self._owns_http = http is None
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(10.0, connect=5.0),
            headers={"User-Agent": f"eduvault/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
        )
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fresh_until: float | None = None
        self._last_attempt: float | None = None
        self._last_ok = True
        #: How many times the set was fetched (for tests and metrics).
        self.fetches = 0

    def __repr__(self) -> str:
        return f"RemoteKeySet({self.url!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def key(self, kid: str, alg: str) -> jwt.PyJWK:
        """The key ``kid`` for ``alg``: :class:`AuthenticationFailed` if the set has no such
        key (after one fetch for a key rotated in since), :class:`SourceUnavailable` if the
        set cannot be fetched and the key is not in hand."""
        if alg not in self.algorithms:
            raise AuthenticationFailed(f"wrong algorithm {alg!r}: {', '.join(self.algorithms)} expected")
        with self._lock:
            now = self._clock()
            if self._fresh_until is None or now >= self._fresh_until:
                if self._may_fetch(now):
                    try:
                        self._refresh(now)
                    except SourceUnavailable:
                        if not self._keys:
                            raise
                        # Keep verifying with the keys in hand; keys rotate slowly.
                elif not self._keys:
                    raise SourceUnavailable(f"the {self.what} could not be fetched from {self.host}; trying again shortly")
            key = self._keys.get(kid)
            if key is None and self._may_fetch(now):
                self._refresh(now)  # a key published since the last fetch (rotation)
                key = self._keys.get(kid)
            if key is None and not self._last_ok:
                raise SourceUnavailable(
                    f"key {kid!r} is not among the {self.what} in hand and {self.host} could not be asked for new ones"
                )
        if key is None:
            raise AuthenticationFailed(f"unknown key {kid!r}: the {self.what} at {self.host} have no such key")
        if key.algorithm_name != alg:
            raise AuthenticationFailed(f"key {kid!r} is for {key.algorithm_name}, not {alg}")
        return key

    def _may_fetch(self, now: float) -> bool:
        if self._last_attempt is None:
            return True
        wait = self.min_refetch_interval if self._last_ok else min(self.min_refetch_interval, FAILED_FETCH_RETRY)
        return now - self._last_attempt >= wait

    def _refresh(self, now: float) -> None:
        """Fetch the set and replace the keys (called with the lock held)."""
        self._last_attempt = now
        self._last_ok = False
        self.fetches += 1
        try:
            response = self._http.get(self.url)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise SourceUnavailable(f"could not fetch the {self.what} from {self.host}: {exc}") from exc
        if response.status_code != 200:
            raise SourceUnavailable(
                f"could not fetch the {self.what} from {self.host}: it answered {response.status_code}"
            )
        if len(response.content) > MAX_JWKS_BYTES:
            raise SourceUnavailable(f"{self.host} answered a key set larger than {MAX_JWKS_BYTES // 1024} KiB")
        try:
            document = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise SourceUnavailable(f"{self.host} answered its key set with something that is not JSON") from None
        keys = signing_keys(document, self.algorithms)
        if not keys:
            raise SourceUnavailable(f"{self.host}'s key set holds no signing key with a kid")
        self._keys = keys
        self._fresh_until = now + cache_seconds(response.headers, default=self.refresh_every)
        self._last_ok = True


def cache_seconds(headers: httpx.Headers, *, default: float) -> float:
    """How long a response may be kept: its ``max-age``, else its ``Expires``, within
    :data:`MIN_CACHE`..:data:`MAX_CACHE`; ``default`` when it says neither (or ``no-store``)."""
    control = headers.get("Cache-Control", "")
    if "no-store" in control.lower() or "no-cache" in control.lower():
        return MIN_CACHE
    match = _MAX_AGE.search(control)
    seconds: float | None = float(match.group(1)) if match else None
    if seconds is None and headers.get("Expires"):
        try:
            seconds = parsedate_to_datetime(headers["Expires"]).timestamp() - time.time()
        except (TypeError, ValueError):
            seconds = None
    if seconds is None:
        return default
    return max(MIN_CACHE, min(MAX_CACHE, seconds))


def signing_keys(document: Any, algorithms: Iterable[str] = ("RS256",)) -> dict[str, jwt.PyJWK]:
    """kid -> key for each signing key of a JWKS with a kid and an allowed algorithm; others
    (and broken ones) are skipped."""
    allowed = tuple(algorithms)
    entries = document.get("keys") if isinstance(document, dict) else None
    keys: dict[str, jwt.PyJWK] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid or entry.get("use", "sig") != "sig":
            continue
        alg = entry.get("alg") or (allowed[0] if entry.get("kty") == "RSA" else None)
        if alg not in allowed:
            continue
        try:
            keys[kid] = jwt.PyJWK(entry, algorithm=alg)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
    return keys
