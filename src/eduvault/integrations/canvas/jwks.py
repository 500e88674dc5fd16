"""Verifying Canvas Live Events delivered over HTTPS with "Sign Payload" on.

What Instructure documents (canvas-lms ``doc/api/data_services/md/static/data_service_setup.md``
and developerdocs.instructure.com ``…/live-events/overview/file.data_service_setup``; Canvas
Guides "How do I configure and test Canvas Live Events using HTTPS delivery?"):

- "HTTPS - Webhook with JWT signing": each event is a POST; with "Sign Payload" selected "the
  event body will be a signed JWT with the live event data in the claims" (without it, the
  body is the event JSON itself).
- The JWT is signed with RS256; its header's ``kid`` names one of the keys published as a
  JWKS (``https://8axpcl50e4.execute-api.us-east-1.amazonaws.com/main/jwks`` for beta and
  production). Keys rotate monthly; the JWKS lists the previous, current and next key.

So the verifier fetches the JWKS lazily, caches it (``refresh_every``), picks the key by
``kid``, and accepts nothing but RS256: not ``none``, not HS256 keyed with the public key, and
it never follows a ``jku``/``x5u`` header. A token naming an unknown ``kid`` makes it fetch
the JWKS again, at most once per ``min_refetch_interval``, so forged tokens cannot make it
hammer the JWKS URL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import jwt
import orjson

from eduvault import __version__
from eduvault.kernel.errors import AuthenticationFailed, MalformedEvent, SourceUnavailable

#: A token longer than this is refused before any parsing.
MAX_TOKEN_BYTES = 256 * 1024
#: A JWKS document longer than this is not accepted.
MAX_JWKS_BYTES = 1024 * 1024
#: After a failed fetch, try again after at most this long (or min_refetch_interval if shorter).
FAILED_FETCH_RETRY = 5.0
ALGORITHM = "RS256"

#: Claims that may hold the event when it is not the claim set itself.
_NESTED = ("event", "live_event", "data", "payload", "message")


class LiveEventVerifier:
    """Verifies Live Events JWTs against Instructure's JWKS. Thread-safe."""

    def __init__(
        self,
        jwks_url: str,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
        refresh_every: float = 3600.0,
        min_refetch_interval: float = 60.0,
        leeway: float = 60,
    ) -> None:
        self.jwks_url = jwks_url
        self.host = httpx.URL(jwks_url).host or jwks_url
        self.refresh_every = refresh_every
        self.min_refetch_interval = min_refetch_interval
        self.leeway = leeway
        self._clock = clock
        self._owns_http = http is None
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(10.0, connect=5.0),
            headers={"User-Agent": f"eduvault/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
        )
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self._last_ok = True

    def __repr__(self) -> str:
        return f"LiveEventVerifier({self.jwks_url!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def verify(self, token: str | bytes) -> dict[str, Any]:
        """The claims of a Live Events JWT whose RS256 signature, by the key its ``kid``
        names, is good, and whose ``exp``/``nbf``/``iat`` (where present) hold, give or take
        ``leeway`` seconds. Raises :class:`AuthenticationFailed` saying why not, or
        :class:`SourceUnavailable` when the keys cannot be fetched."""
        if isinstance(token, bytes):
            if len(token) > MAX_TOKEN_BYTES:
                raise AuthenticationFailed(f"the token is larger than {MAX_TOKEN_BYTES // 1024} KiB")
            try:
                token = token.decode("ascii")
            except UnicodeDecodeError:
                raise AuthenticationFailed("malformed token: not ASCII") from None
        if not isinstance(token, str):
            raise AuthenticationFailed("malformed token: not a string")
        if len(token) > MAX_TOKEN_BYTES:
            raise AuthenticationFailed(f"the token is larger than {MAX_TOKEN_BYTES // 1024} KiB")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AuthenticationFailed(f"malformed token: {exc}") from None
        alg = header.get("alg")
        if alg != ALGORITHM:
            raise AuthenticationFailed(f"wrong algorithm {alg!r}: Live Events are signed with {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationFailed("the token's header names no key (kid)")
        key = self._signing_key(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                leeway=self.leeway,
                options={"verify_aud": False, "verify_iss": False},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("the token has expired") from None
        except jwt.ImmatureSignatureError as exc:
            raise AuthenticationFailed(f"the token is not valid yet ({exc})") from None
        except jwt.InvalidSignatureError:
            raise AuthenticationFailed(f"bad signature (key {kid!r})") from None
        except jwt.InvalidAlgorithmError:
            raise AuthenticationFailed(f"wrong algorithm: Live Events are signed with {ALGORITHM}") from None
        except jwt.DecodeError as exc:
            raise AuthenticationFailed(f"malformed token: {exc}") from None
        except jwt.InvalidTokenError as exc:
            raise AuthenticationFailed(f"invalid token: {exc}") from None
        if not isinstance(claims, dict):  # pragma: no cover - PyJWT only returns objects
            raise AuthenticationFailed("malformed token: its claims are not a JSON object")
        return claims

    # -- the keys -------------------------------------------------------------------------

    def _signing_key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            now = self._clock()
            if self._fetched_at is None or now - self._fetched_at >= self.refresh_every:
                if self._may_fetch(now):
                    try:
                        self._refresh(now)
                    except SourceUnavailable:
                        if not self._keys:
                            raise
                        # Keep verifying with the keys we have; they rotate only monthly.
                elif not self._keys:
                    raise SourceUnavailable(
                        f"the Live Events keys could not be fetched from {self.host}; trying again shortly"
                    )
            key = self._keys.get(kid)
            if key is None and self._may_fetch(now):
                self._refresh(now)  # a key published since the last fetch (rotation)
                key = self._keys.get(kid)
            if key is None and not self._last_ok:
                # The JWKS is down: the key may be one rotated in since; we cannot tell.
                raise SourceUnavailable(
                    f"key {kid!r} is not among the Live Events keys in hand and {self.host} "
                    "could not be asked for new ones"
                )
        if key is None:
            raise AuthenticationFailed(f"unknown key {kid!r}: the Live Events JWKS has no such key")
        return key

    def _may_fetch(self, now: float) -> bool:
        if self._last_attempt is None:
            return True
        wait = (
            self.min_refetch_interval if self._last_ok else min(self.min_refetch_interval, FAILED_FETCH_RETRY)
        )
        return now - self._last_attempt >= wait

    def _refresh(self, now: float) -> None:
        """Fetch the JWKS and replace the keys (called with the lock held)."""
        self._last_attempt = now
        self._last_ok = False
        try:
            response = self._http.get(self.jwks_url)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise SourceUnavailable(f"could not fetch the Live Events keys from {self.host}: {exc}") from exc
        if response.status_code != 200:
            raise SourceUnavailable(
                f"could not fetch the Live Events keys from {self.host}: it answered {response.status_code}"
            )
        if len(response.content) > MAX_JWKS_BYTES:
            raise SourceUnavailable(f"{self.host} answered a JWKS larger than {MAX_JWKS_BYTES // 1024} KiB")
        try:
            document = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise SourceUnavailable(
                f"{self.host} answered the JWKS with something that is not JSON"
            ) from None
        keys = _signing_keys(document)
        if not keys:
            raise SourceUnavailable(f"{self.host}'s JWKS holds no RSA signing key with a kid")
        self._keys = keys
        self._fetched_at = now
        self._last_ok = True


def _signing_keys(document: Any) -> dict[str, jwt.PyJWK]:
    """kid -> key for each RSA signing key of a JWKS; others (and broken ones) are skipped."""
    entries = document.get("keys") if isinstance(document, dict) else None
    keys: dict[str, jwt.PyJWK] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid or entry.get("kty") != "RSA":
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", ALGORITHM) != ALGORITHM:
            continue
        try:
            keys[kid] = jwt.PyJWK(entry, algorithm=ALGORITHM)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
    return keys


def live_event_of(claims: Mapping[str, Any]) -> dict[str, Any]:
    """``{"metadata": …, "body": …}`` of the Live Event (Canvas format) in verified claims.

    Instructure documents only that a signed delivery carries "the live event data in the
    claims" and shows no other layout, so the event is expected as the claim set itself
    (``metadata`` and ``body`` beside the JWT's own ``iat``/``exp``). Defensively, an event
    object nested one level down (under ``event``, ``live_event``, ``data``, ``payload``,
    ``message`` or any other claim, as an object or as JSON text) is accepted too. The
    Caliper format (``sensor``/``data`` envelope) is not a Canvas-format event: refused with
    :class:`MalformedEvent`, as is anything else without both ``metadata`` and ``body``.
    """
    if not isinstance(claims, Mapping):
        raise MalformedEvent("the token's claims are not a JSON object")
    event = _event_in(claims)
    if event is None:
        names = [n for n in _NESTED if n in claims] + [n for n in claims if n not in _NESTED]
        for name in names:
            event = _event_in(claims[name])
            if event is not None:
                break
    if event is None:
        if "sensor" in claims or "dataVersion" in claims:
            raise MalformedEvent("this is a Caliper event; subscribe with the Canvas format instead")
        raise MalformedEvent("the token's claims hold no Live Event (metadata and body)")
    return {"metadata": event["metadata"], "body": event["body"]}


def _event_in(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, str) and value.startswith("{") and len(value) <= MAX_TOKEN_BYTES:
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    if (
        isinstance(value, Mapping)
        and isinstance(value.get("metadata"), dict)
        and isinstance(value.get("body"), dict)
    ):
        return value
    return None
