"""DRF authentication: ``Authorization: Bearer <credential>``, where the credential is an
API token (``ev_…``: sources, consumers, operators' scripts) or a person's JWT access token
(learners, instructors and admins signed in through ``/api/v1/auth/token``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed as DrfAuthenticationFailed
from rest_framework.request import Request

from eduvault.identity.models import ApiToken
from eduvault.identity.services import access_token_verify, token_authenticate
from eduvault.identity.tokens import SignedIn, looks_like_jwt
from eduvault.kernel.errors import AuthenticationFailed


@dataclass(frozen=True)
class TokenPrincipal:
    """The caller behind a token, as ``request.user``."""

    token: ApiToken
    is_authenticated: bool = True
    is_anonymous: bool = False

    @property
    def username(self) -> str:
        return self.token.name

    def __str__(self) -> str:
        return f"token:{self.token.name}"


def bearer_caller(header: bytes) -> SignedIn | ApiToken | None:
    """Who an ``Authorization`` header names: a signed-in person (a JWT), an API token, or
    nobody (no header); :class:`AuthenticationFailed` for anything else."""
    parts = header.split()
    if not parts:
        return None
    if parts[0].lower() != b"bearer" or len(parts) != 2:
        raise AuthenticationFailed("Send the token as 'Authorization: Bearer <token>'.")
    try:
        value = parts[1].decode()
    except UnicodeDecodeError:
        raise AuthenticationFailed("The token is not valid.") from None
    if looks_like_jwt(value):
        return access_token_verify(token=value)
    return token_authenticate(value=value)


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        try:
            caller = bearer_caller(get_authorization_header(request))
        except AuthenticationFailed as exc:
            raise DrfAuthenticationFailed(exc.detail) from None
        if caller is None:
            return None
        if isinstance(caller, SignedIn):
            return caller, caller
        return TokenPrincipal(caller), caller

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="eduvault"'
