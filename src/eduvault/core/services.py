"""Core operations: API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from eduvault.core.models import ApiToken
from eduvault.exceptions import AuthenticationFailed, InvalidInput

TOKEN_PREFIX = "ev"
#: last_used_at is refreshed at most this often, so reads do not become writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(
    *,
    name: str,
    role: str = ApiToken.Role.CONSUMER,
    courses: list[str] | None = None,
    kinds: list[str] | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; return it with its secret value, which is shown this once only."""
    if role not in ApiToken.Role.values:
        raise InvalidInput(f"unknown role {role!r}; choose one of {', '.join(ApiToken.Role.values)}")
    if not name.strip():
        raise InvalidInput("a token needs a name")
    if ApiToken.objects.filter(name=name).exists():
        raise InvalidInput(f"a token named {name!r} already exists")
    prefix = secrets.token_hex(4)
    value = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name,
        role=role,
        prefix=prefix,
        key_hash=_digest(value),
        courses=sorted(set(courses or [])),
        kinds=sorted(set(kinds or [])),
    )
    return token, value


def token_authenticate(*, value: str) -> ApiToken:
    """The live token with this value; constant-time comparison of the hash."""
    parts = value.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise AuthenticationFailed("The token is malformed.")
    token = ApiToken.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    # Compare even when no token matched, so timing does not tell which prefixes exist.
    expected = token.key_hash if token is not None else "0" * 64
    if not hmac.compare_digest(expected, _digest(value)) or token is None:
        raise AuthenticationFailed("The token is not valid or has been revoked.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_revoke(*, name: str) -> ApiToken:
    token = ApiToken.objects.filter(name=name, revoked_at__isnull=True).first()
    if token is None:
        raise InvalidInput(f"no live token named {name!r}")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    return token
