"""Standard Webhooks signatures (https://www.standardwebhooks.com), pure Python.

A delivery carries ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature``: a space-separated list of ``v1,<base64 HMAC-SHA256>``, each over
``<id>.<timestamp>.<raw body>``. Secrets are written ``whsec_<base64 key>``; a secret without
that prefix is also accepted as the raw key bytes, so senders that sign with the secret
string itself verify too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class SignatureError(Exception):
    """Why a delivery's signature was refused (safe to show to the sender)."""


def keys_of(secret: str) -> list[bytes]:
    """The HMAC keys a secret stands for: the decoded ``whsec_`` key, and/or its raw bytes."""
    keys = []
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if decoded:
        keys.append(decoded)
    if not secret.startswith(SECRET_PREFIX):
        keys.append(secret.encode())
    return keys


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one secret (its standard key)."""
    key = keys_of(secret)[0]
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(secret: str, msg_id: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secrets: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> str:
    """Check a delivery against any of ``secrets`` (two at once during a rotation).

    Returns the ``webhook-id``; raises :class:`SignatureError` saying what is wrong.
    Every comparison is constant-time.
    """
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    if not (msg_id and stamp and given):
        missing = [
            h
            for h, v in (("webhook-id", msg_id), ("webhook-timestamp", stamp), ("webhook-signature", given))
            if not v
        ]
        raise SignatureError(f"missing header{'s' * (len(missing) > 1)}: {', '.join(missing)}")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError("webhook-timestamp must be whole Unix seconds") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError(
            f"webhook-timestamp is {abs(now - timestamp):.0f} seconds from our clock; "
            f"at most {tolerance} are accepted"
        )
    candidates = []
    for entry in given.split():
        version, _, value = entry.partition(",")
        if version != "v1" or not value:
            continue
        try:
            candidates.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not candidates:
        raise SignatureError("webhook-signature has no v1 signature")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    matched = False
    for secret in secrets:
        for key in keys_of(secret):
            expected = hmac.new(key, signed, hashlib.sha256).digest()
            for candidate in candidates:
                # No early exit: the work does not depend on which signature matched.
                matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("the signature does not match")
    return msg_id
