"""Open edX webhooks: CloudEvents signed with Standard Webhooks (the Edu Vault plugin)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eduvault.integrations.base import Arrival
from eduvault.integrations.openedx.events import parse_cloud_event
from eduvault.kernel.bodies import parse_json
from eduvault.kernel.errors import AuthenticationFailed, MalformedEvent
from eduvault.kernel.signing import SignatureError, verify


class StandardWebhooks:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC>``
    over ``<id>.<timestamp>.<body>`` with the source's webhook secrets (two during a
    rotation); the body a CloudEvent whose id is the ``webhook-id``."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def receive(self, *, body: bytes, headers: Mapping[str, str]) -> list[Arrival]:
        secrets = self.source.webhook_secrets
        if not secrets:
            raise AuthenticationFailed(
                f"source {self.source.name!r} has no webhook secret; add one to accept webhooks"
            )
        try:
            webhook_id = verify(secrets, headers, body)
        except SignatureError as exc:
            raise AuthenticationFailed(f"webhook signature refused: {exc}") from None
        arrival = parse_cloud_event(parse_json(body))
        if arrival.event_id != webhook_id:
            raise MalformedEvent(
                f"the CloudEvent id {arrival.event_id!r} differs from the webhook-id header {webhook_id!r}"
            )
        return [arrival]
