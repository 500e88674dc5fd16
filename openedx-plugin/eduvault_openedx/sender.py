"""Build a CloudEvent and deliver it to Edu Vault, signed with Standard Webhooks.

Standard library only: it runs inside Open edX (from the plugin's Celery task) and inside
Edu Vault's simulator.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

COURSE_PUBLISHED = "org.openedx.content_authoring.course.published.v1"
XBLOCK_PUBLISHED = "org.openedx.content_authoring.xblock.published.v1"
XBLOCK_DELETED = "org.openedx.content_authoring.xblock.deleted.v1"
CATALOG_INFO_CHANGED = "org.openedx.content_authoring.course.catalog_info.changed.v1"


class DeliveryError(Exception):
    """Edu Vault did not accept the event; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def cloud_event(
    event_type: str,
    data: dict[str, Any],
    *,
    source: str,
    event_id: str | None = None,
    time_: datetime | None = None,
) -> dict[str, Any]:
    """A CloudEvents 1.0 structured event."""
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": (time_ or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": data,
    }


def _key(secret: str) -> bytes:
    """The HMAC key: a ``whsec_`` secret is base64; any other secret is used as it is."""
    if secret.startswith("whsec_"):
        encoded = secret[len("whsec_") :]
        try:
            return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def signed_headers(secret: str, msg_id: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def deliver(url: str, secret: str, event: dict[str, Any], *, timeout: float = 10.0) -> int:
    """POST one event; returns the HTTP status (200 duplicate or 202 accepted).

    Raises :class:`DeliveryError`, retryable for timeouts, connection errors, 429 and 5xx.
    """
    body = json.dumps(event, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/cloudevents+json", **signed_headers(secret, event["id"], body)}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        detail = exc.read(500).decode(errors="replace")
        raise DeliveryError(
            f"Edu Vault answered {exc.code}: {detail}", retryable=exc.code == 429 or exc.code >= 500
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"could not reach Edu Vault at {url}: {exc}", retryable=True) from None
