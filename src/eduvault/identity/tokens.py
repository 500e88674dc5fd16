"""JWT access tokens: short-lived, signed with HS256, verified without a database query.

An access token says who the person is and what role they have, for
``EDUVAULT_ACCESS_TOKEN_SECONDS``; the refresh token (an opaque random string, stored
hashed) is what keeps a session going. Pure: the key and lifetimes are passed in.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from eduvault.kernel.errors import AuthenticationFailed

ISSUER = "eduvault"
ALGORITHM = "HS256"
#: Clock skew tolerated between the servers that issue and verify a token.
LEEWAY_SECONDS = 10


@dataclass(frozen=True)
class SignedIn:
    """The person behind an access token, as ``request.user``."""

    id: int
    username: str
    role: str
    is_authenticated: bool = True
    is_anonymous: bool = False

    def __str__(self) -> str:
        return f"{self.role}:{self.username}"

    def get_username(self) -> str:
        return self.username


def access_token_encode(*, key: bytes, person: SignedIn, lifetime: int, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": ISSUER,
        "sub": str(person.id),
        "name": person.username,
        "role": person.role,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def access_token_decode(*, key: bytes, token: str) -> SignedIn:
    """The person an access token names; AuthenticationFailed for anything else (expired,
    tampered, another issuer, a refresh token, ...)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],  # never "none", never an algorithm the token chooses
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationFailed(
            "The access token has expired; refresh it at /api/v1/auth/refresh."
        ) from None
    except jwt.PyJWTError:
        raise AuthenticationFailed("The access token is not valid.") from None
    if claims.get("typ") != "access":
        raise AuthenticationFailed("This is not an access token.")
    try:
        return SignedIn(id=int(claims["sub"]), username=str(claims["name"]), role=str(claims["role"]))
    except (KeyError, ValueError):
        raise AuthenticationFailed("The access token is not valid.") from None


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2
