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

So the verifier picks the key by ``kid`` from the JWKS (:class:`eduvault.kernel.jwks.RemoteKeySet`:
fetched lazily, cached, fetched again for a ``kid`` rotated in, never from a token's
``jku``/``x5u``), and accepts nothing but RS256: not ``none``, not HS256 keyed with the public key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import jwt
import orjson

from eduvault.kernel.errors import AuthenticationFailed, MalformedEvent
from eduvault.kernel.jwks import RemoteKeySet

#: A token longer than this is refused before any parsing.
MAX_TOKEN_BYTES = 256 * 1024
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
        self.leeway = leeway
        self.keys = RemoteKeySet(
            jwks_url,
            what="Live Events keys",
            algorithms=(ALGORITHM,),
            http=http,
            clock=clock,
            refresh_every=refresh_every,
            min_refetch_interval=min_refetch_interval,
        )

    def __repr__(self) -> str:
        return f"LiveEventVerifier({self.jwks_url!r})"

    def close(self) -> None:
        self.keys.close()

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
        key = self.keys.key(kid, ALGORITHM)
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
