"""The token endpoint (OAuth 2.0 client credentials with a JWT client assertion) and bearer checks.

Security Framework 1.0 §4.1 and RFC 7523 §3: the tool POSTs (form-encoded) ``grant_type=
client_credentials``, ``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:
jwt-bearer``, ``client_assertion`` (a JWT the tool signed RS256: ``iss`` = ``sub`` = its
client_id, ``aud`` the token URL — the issuer is accepted too —, ``exp``, ``iat``, ``jti``) and
``scope``. The assertion is verified against the tool's JWKS, fetched over HTTP and picked by
``kid`` (fetched again when a kid is unknown, so tool key rotation works). A ``jti`` seen before
is refused (RFC 7523 §3 item 7's "MAY ensure that JWTs are not replayed").

Errors as RFC 6749 §5.2: a bad assertion is ``invalid_client`` (RFC 7523 §3.2) with 401; a
malformed request ``invalid_request``, another grant ``unsupported_grant_type``, no grantable
scope ``invalid_scope``, all 400. Scopes granted are the requested ones the tool may have
(Moodle's ``token.php`` grants that intersection and refuses only when it is empty).

Bearer checks as RFC 6750 §3.1: no or an unknown/expired token → 401 ``invalid_token``; a token
without the needed scope → 403 ``insufficient_scope``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import jwt

from eduvault.integrations.lti.simulator.rest import ApiError, Call, Reply
from eduvault.integrations.lti.simulator.state import Tool
from eduvault.integrations.lti.simulator.vocab import CLIENT_ASSERTION_TYPE

if TYPE_CHECKING:
    from eduvault.integrations.lti.simulator.server import LtiPlatform

TOKEN_LIFETIME = 3600
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass
class AccessToken:
    token: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float


class InvalidJwt(Exception):
    pass


def oauth_error(status: int, error: str, description: str) -> ApiError:
    return ApiError(status, {"error": error, "error_description": description}, dict(_NO_STORE))


def tool_keys(platform: LtiPlatform, tool: Tool, *, refresh: bool = False) -> dict[str, Any]:
    """The tool's JWKS (cached; ``refresh`` fetches it again over HTTP)."""
    if tool.public_jwks is not None:
        return tool.public_jwks
    with platform.lock:
        cached = platform.tool_jwks_cache.get(tool.client_id)
    if cached is not None and not refresh:
        return cached
    try:
        response = platform.http.get(str(tool.jwks_url), timeout=5.0)
        response.raise_for_status()
        jwks = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise InvalidJwt(f"could not fetch the tool's JWKS from {tool.jwks_url}: {exc}") from None
    with platform.lock:
        platform.tool_jwks_cache[tool.client_id] = jwks
        platform.tool_jwks_fetches.append(str(tool.jwks_url))
    return jwks


def verify_tool_jwt(
    platform: LtiPlatform, tool: Tool, token: str, *, audience: list[str], require: list[str]
) -> dict[str, Any]:
    """Verify a JWT the tool signed: RS256 only, the key picked by ``kid`` from the tool's JWKS."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidJwt(f"malformed JWT: {exc}") from None
    if header.get("alg") != "RS256":
        raise InvalidJwt(f"alg must be RS256, not {header.get('alg')!r}")
    kid = header.get("kid")
    if not kid:
        raise InvalidJwt("the JWT header has no kid")
    key = _find_key(tool_keys(platform, tool), kid) or _find_key(tool_keys(platform, tool, refresh=True), kid)
    if key is None:
        raise InvalidJwt(f"no key {kid!r} in the tool's JWKS")
    try:
        return jwt.decode(
            token, key, algorithms=["RS256"], audience=audience, leeway=5, options={"require": require}
        )
    except jwt.PyJWTError as exc:
        raise InvalidJwt(f"{type(exc).__name__}: {exc}") from None


def _find_key(jwks: dict[str, Any], kid: str) -> Any:
    for jwk in jwks.get("keys", []):
        if jwk.get("kid") == kid:
            try:
                return jwt.PyJWK(jwk, algorithm="RS256").key
            except jwt.PyJWTError:
                return None
    return None


def token_endpoint(call: Call) -> Reply:
    platform = call.platform
    if call.content_type != "application/x-www-form-urlencoded":
        raise oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
    params = call.form()
    for name in ("grant_type", "client_assertion_type", "client_assertion"):
        if not params.get(name):
            raise oauth_error(400, "invalid_request", f"{name} is required")
    if params["grant_type"] != "client_credentials":
        raise oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    if params["client_assertion_type"] != CLIENT_ASSERTION_TYPE:
        raise oauth_error(400, "invalid_request", f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}")
    assertion = params["client_assertion"]
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise oauth_error(401, "invalid_client", "the client assertion is not a JWT") from None
    tool = platform.tools.get(str(unverified.get("sub")))
    if tool is None:
        raise oauth_error(401, "invalid_client", f"unknown client {unverified.get('sub')!r}")
    try:
        claims = verify_tool_jwt(
            platform, tool, assertion, audience=[platform.token_url, platform.issuer],
            require=["iss", "sub", "aud", "exp", "iat", "jti"],
        )  # fmt: skip
    except InvalidJwt as exc:
        raise oauth_error(401, "invalid_client", str(exc)) from None
    if claims["iss"] != tool.client_id or claims["sub"] != tool.client_id:
        raise oauth_error(401, "invalid_client", "iss and sub must both be the client_id")
    with platform.lock:
        if claims["jti"] in platform.seen_jtis:
            raise oauth_error(401, "invalid_client", "the client assertion was already used (jti replayed)")
        platform.seen_jtis[str(claims["jti"])] = float(claims["exp"])
    requested = params.get("scope", "").split()
    granted = [s for s in requested if s in tool.scopes]
    if not granted:
        raise oauth_error(400, "invalid_scope", "none of the requested scopes can be granted")
    access = AccessToken(
        secrets.token_urlsafe(32), tool.client_id, frozenset(granted), time.time() + TOKEN_LIFETIME
    )
    body = {
        "access_token": access.token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "scope": " ".join(granted),
    }
    with platform.lock:
        platform.access_tokens[access.token] = access
        platform.tokens_issued.append(
            {"client_id": tool.client_id, "scope": body["scope"], "access_token": access.token,
             "jti": claims["jti"], "time": time.time()}
        )  # fmt: skip
    return Reply(200, body, dict(_NO_STORE))


def authorize(call: Call, *any_of: str) -> None:
    """Check the bearer token holds one of ``any_of``; sets ``call.client_id`` and ``call.scopes``."""
    scheme, _, value = call.headers.get("authorization", "").partition(" ")
    realm = 'Bearer realm="lti"'
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, {"error": "invalid_token", "error_description": "a bearer token is required"},
                       {"WWW-Authenticate": realm})  # fmt: skip
    with call.platform.lock:
        access = call.platform.access_tokens.get(value.strip())
    if access is None or access.expires_at <= time.time():
        raise ApiError(
            401, {"error": "invalid_token", "error_description": "the access token is unknown or expired"},
            {"WWW-Authenticate": realm + ', error="invalid_token"'},
        )  # fmt: skip
    if not access.scopes.intersection(any_of):
        needed = " ".join(any_of)
        raise ApiError(
            403, {"error": "insufficient_scope", "error_description": f"this needs one of: {needed}"},
            {"WWW-Authenticate": realm + f', error="insufficient_scope", scope="{needed}"'},
        )  # fmt: skip
    call.client_id, call.scopes = access.client_id, access.scopes
