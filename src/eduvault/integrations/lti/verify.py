"""Checking an LTI 1.3 launch's id_token: the 1EdTech Security Framework §5.1.3 and the LTI
Core's message rules, every one of them.

- the signature, RS256, by the platform's key its ``kid`` names (its JWKS fetched again once
  for a ``kid`` not in hand, cached as its headers say: :class:`eduvault.kernel.jwks.RemoteKeySet`);
  no other algorithm, never a key the token points to;
- ``iss`` exactly the registered issuer;
- ``aud`` holds our client id and no audience we do not trust; ``azp``, when present (it must
  be with several audiences), is our client id;
- ``exp`` in the future and ``iat`` not in the future, each within a small leeway; ``iat``
  not older than :data:`MAX_AGE`;
- ``nonce`` present (its single use is the caller's: :mod:`.services`);
- the deployment id registered for the platform;
- message type, version 1.3.0, roles and resource link (or deep-linking settings) present:
  pylti1p3's message validators (the maintained fork, pylti1p3next).

Pure: no database. Each refusal raises :class:`LaunchRefused` saying why.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from pylti1p3.exception import LtiException
from pylti1p3.message_validators import get_validators

from eduvault.integrations.lti import claims as c
from eduvault.kernel.errors import AuthenticationFailed, EduVaultError
from eduvault.kernel.jwks import RemoteKeySet

ALGORITHM = "RS256"
#: Clock skew allowed on ``exp`` and ``iat``.
LEEWAY = 60
#: An id_token issued longer ago than this is refused (a launch is a browser's round trip).
MAX_AGE = 600
#: Larger id_tokens are refused before any parsing.
MAX_TOKEN_BYTES = 64 * 1024


class LaunchRefused(EduVaultError):
    """The LTI launch was refused."""

    status = 401


class LaunchMalformed(LaunchRefused):
    """The LTI launch is malformed."""

    status = 400


@dataclass(frozen=True)
class Registration:
    """A platform as registered: who it is, our client id there, its endpoints, its
    deployments of the tool."""

    name: str
    issuer: str
    client_id: str
    auth_url: str
    token_url: str
    jwks_url: str
    deployments: Sequence[str]


def header_of(token: str) -> dict[str, Any]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_BYTES:
        raise LaunchMalformed("the launch carries no id_token, or one too large")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise LaunchMalformed(f"the id_token is not a JWT ({exc})") from None
    return header


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims, unverified: only to find which platform the token claims to be from."""
    header_of(token)
    try:
        body = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise LaunchMalformed(f"the id_token is not a JWT ({exc})") from None
    if not isinstance(body, dict):
        raise LaunchMalformed("the id_token's claims are not a JSON object")
    return body


def verify_id_token(
    token: str, *, registration: Registration, keys: RemoteKeySet, now: float | None = None
) -> dict[str, Any]:
    """The claims of a launch's id_token that passes every check; :class:`LaunchRefused`
    saying which failed."""
    header = header_of(token)
    alg, kid = header.get("alg"), header.get("kid")
    if alg != ALGORITHM:
        raise LaunchRefused(f"the id_token is signed with {alg!r}; LTI 1.3 launches are signed with {ALGORITHM}")
    if not isinstance(kid, str) or not kid:
        raise LaunchRefused("the id_token's header names no key (kid)")
    try:
        key = keys.key(kid, ALGORITHM)
    except AuthenticationFailed as exc:
        raise LaunchRefused(f"the id_token's key: {exc.detail}") from None
    moment = time.time() if now is None else now
    try:
        body = jwt.decode(
            token,
            key.key,
            algorithms=[ALGORITHM],
            options={"verify_aud": False, "verify_iss": False, "verify_exp": False, "verify_iat": False,
                     "verify_nbf": False, "require": []},
        )
    except jwt.InvalidSignatureError:
        raise LaunchRefused(f"the id_token's signature is bad (key {kid!r})") from None
    except jwt.InvalidTokenError as exc:
        raise LaunchRefused(f"the id_token could not be verified: {exc}") from None
    if not isinstance(body, dict):
        raise LaunchMalformed("the id_token's claims are not a JSON object")
    _check_claims(body, registration, moment)
    return body


def _check_claims(body: dict[str, Any], registration: Registration, now: float) -> None:
    if body.get("iss") != registration.issuer:
        raise LaunchRefused(f"the id_token's issuer {body.get('iss')!r} is not {registration.name}'s ({registration.issuer})")
    audience = body.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise LaunchRefused("the id_token has no audience")
    if registration.client_id not in audiences:
        raise LaunchRefused(f"the id_token is not for this tool: its audience is {audiences}, not {registration.client_id!r}")
    strangers = [a for a in audiences if a != registration.client_id]
    if strangers:
        raise LaunchRefused(f"the id_token is also for audiences this tool does not trust: {strangers}")
    if "azp" in body and body["azp"] != registration.client_id:
        raise LaunchRefused(f"the id_token's authorized party {body['azp']!r} is not this tool")
    exp, iat = body.get("exp"), body.get("iat")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise LaunchRefused("the id_token has no expiry (exp)")
    if exp <= now - LEEWAY:
        raise LaunchRefused("the id_token has expired")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise LaunchRefused("the id_token has no issue time (iat)")
    if iat > now + LEEWAY:
        raise LaunchRefused("the id_token was issued in the future")
    if iat < now - MAX_AGE:
        raise LaunchRefused(f"the id_token was issued more than {MAX_AGE // 60} minutes ago")
    nonce = body.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise LaunchRefused("the id_token has no nonce")
    deployment = body.get(c.DEPLOYMENT_ID)
    if not isinstance(deployment, str) or deployment not in registration.deployments:
        raise LaunchRefused(f"deployment {deployment!r} is not registered for {registration.name}")
    message_type = body.get(c.MESSAGE_TYPE)
    if message_type not in c.MESSAGE_TYPES:
        raise LaunchRefused(f"message type {message_type!r} is not one this tool takes ({', '.join(c.MESSAGE_TYPES)})")
    try:
        validated = [v.validate(body) for v in get_validators() if v.can_validate(body)]
    except LtiException as exc:
        raise LaunchRefused(f"the launch's claims: {exc}") from None
    if validated != [True]:
        raise LaunchRefused(f"the launch's {message_type} claims are not valid")
    if not isinstance(body.get(c.ROLES), list):
        raise LaunchRefused("the launch's roles claim is not a list")
    custom = body.get(c.CUSTOM)
    if custom is not None and not isinstance(custom, dict):
        raise LaunchRefused("the launch's custom claim is not an object")
