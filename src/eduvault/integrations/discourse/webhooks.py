"""Discourse webhooks delivered to ``POST /api/v1/webhooks/<source>``.

Discourse signs the raw body: ``X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256>`` with
the hook's secret (``app/services/web_hook_emitter.rb``). It is checked in constant time
against each of the source's secrets (the current one and, during a rotation, the previous);
nothing is parsed before it matches. ``X-Discourse-Event`` and ``X-Discourse-Event-Type``
select the handler.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from eduvault.integrations.base import Arrival
from eduvault.integrations.discourse.events import Context, parse_webhook
from eduvault.kernel.bodies import parse_json
from eduvault.kernel.errors import AuthenticationFailed, MalformedEvent

PREFIX = "sha256="


def signature_valid(body: bytes, header: str, secrets: list[str]) -> bool:
    if not header.startswith(PREFIX):
        return False
    given = header[len(PREFIX) :].strip().lower().encode()
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
        matched |= hmac.compare_digest(expected, given)  # every secret tried: no early exit
    return matched


class DiscourseWebhooks:
    def __init__(self, source: Any) -> None:
        self.source = source

    def receive(self, *, body: bytes, headers: Mapping[str, str]) -> list[Arrival]:
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        secrets = list(self.source.webhook_secrets or [])
        if not secrets:
            raise AuthenticationFailed(
                f"source {self.source.name!r} has no webhook secret to check Discourse's signatures; "
                "set one with 'eduvault source webhook-secret'"
            )
        signature = lowered.get("x-discourse-event-signature", "")
        if not signature:
            raise AuthenticationFailed("the X-Discourse-Event-Signature header is missing")
        if not signature_valid(body, signature, secrets):
            raise AuthenticationFailed("the X-Discourse-Event-Signature does not match the body")
        event = lowered.get("x-discourse-event", "")
        event_type = lowered.get("x-discourse-event-type", "")
        if not event or not event_type:
            raise MalformedEvent("a Discourse webhook names its event in X-Discourse-Event and X-Discourse-Event-Type")
        document = parse_json(body)
        return parse_webhook(
            event=event,
            event_type=event_type,
            body=document,
            raw=body,
            context=Context(
                source_name=self.source.name,
                api_username=self.source.setting("api_username") or "",
                connect_ids=self.source.setting("connect_ids") or "",
            ),
        )
