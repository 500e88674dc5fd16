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
from eduvault.identity.tokens import looks_like_jwt
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


class ApiTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword or len(header) != 2:
            raise DrfAuthenticationFailed("Send the token as 'Authorization: Bearer <token>'.")
        try:
            value = header[1].decode()
        except UnicodeDecodeError:
            raise DrfAuthenticationFailed("The token is not valid.") from None
        try:
            if looks_like_jwt(value):
                person = access_token_verify(token=value)
                return person, person
            token = token_authenticate(value=value)
        except AuthenticationFailed as exc:
            raise DrfAuthenticationFailed(exc.detail) from None
        return TokenPrincipal(token), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="eduvault"'
