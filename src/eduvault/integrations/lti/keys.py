"""Edu Vault's own keys as an LTI tool: made, rotated, published, used to sign."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import transaction
from django.utils import timezone

from eduvault.integrations.models import ToolKey

ALGORITHM = "RS256"
KEY_BITS = 2048


def _new_key() -> ToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = secrets.token_urlsafe(16)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    public.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    key = ToolKey.objects.create(kid=kid, private={"pem": pem}, public_jwk=public)
    _published_changed()
    return key


def tool_key_current() -> ToolKey:
    """The key that signs now (the newest unretired one; made on first use)."""
    key = ToolKey.objects.filter(retired_at__isnull=True).order_by("-created_at", "-id").first()
    if key is not None:
        return key
    with transaction.atomic():
        key = ToolKey.objects.select_for_update().filter(retired_at__isnull=True).first()
        return key if key is not None else _new_key()


def tool_key_rotate() -> tuple[ToolKey, list[ToolKey]]:
    """A new key signs from now on; the older ones stay published (retire them later with
    :func:`tool_keys_retire`). Returns the new key and the older published ones."""
    with transaction.atomic():
        older = list(ToolKey.objects.filter(retired_at__isnull=True))
        key = _new_key()
    _published_changed()
    return key, older


def tool_keys_retire(*, keep: int = 1) -> int:
    """Stop publishing all but the ``keep`` newest keys; returns how many were retired."""
    live = list(ToolKey.objects.filter(retired_at__isnull=True).order_by("-created_at", "-id"))
    old = [k.pk for k in live[keep:]]
    retired = ToolKey.objects.filter(pk__in=old).update(retired_at=timezone.now())
    _published_changed()
    return retired


#: The published set, kept a few seconds in this process (platforms fetch it on every token
#: and deep-link response; a rotation elsewhere shows within this long, well inside the
#: five minutes platforms may cache it themselves).
_JWKS_SECONDS = 10.0
_jwks: tuple[float, dict[str, Any]] | None = None


def tool_jwks() -> dict[str, Any]:
    """The published key set: every unretired key (made on first call)."""
    global _jwks
    held = _jwks
    if held is not None and held[0] > time.monotonic():
        return held[1]
    tool_key_current()
    keys = {"keys": [k.public_jwk for k in ToolKey.objects.filter(retired_at__isnull=True).order_by("-created_at")]}
    _jwks = (time.monotonic() + _JWKS_SECONDS, keys)
    return keys


def _published_changed() -> None:
    global _jwks
    _jwks = None


def tool_sign(claims: dict[str, Any]) -> str:
    """A JWT of ``claims`` signed by the current key (its ``kid`` in the header)."""
    key = tool_key_current()
    return jwt.encode(claims, key.private["pem"], algorithm=ALGORITHM, headers={"kid": key.kid})


def client_assertion(*, client_id: str, token_url: str, lifetime: int = 300) -> str:
    """RFC 7523 client assertion for the platform's token endpoint."""
    now = int(time.time())
    return tool_sign(
        {
            "iss": client_id,
            "sub": client_id,
            "aud": token_url,
            "iat": now,
            "exp": now + lifetime,
            "jti": secrets.token_urlsafe(24),
        }
    )
