"""Canvas Live Events delivered by HTTPS to ``POST /api/v1/webhooks/<source>``.

Signed ones (Canvas Data Services' "Webhook with JWT signing") arrive as a JWT signed RS256
by Instructure, verified against the source's JWKS by the token's ``kid`` (Instructure
publishes the previous, current and next keys and rotates them monthly). Unsigned ones (the
raw JSON) are accepted only from a source whose operator allowed them
(``--allow-unsigned``): anyone who knows the URL could send one.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from eduvault.integrations.base import Arrival
from eduvault.integrations.canvas.events import parse_live_event
from eduvault.integrations.canvas.jwks import LiveEventVerifier, live_event_of
from eduvault.kernel.bodies import parse_json
from eduvault.kernel.errors import AuthenticationFailed

#: One verifier (and its cached keys) per JWKS URL, for the life of the process.
_verifiers: dict[str, LiveEventVerifier] = {}
_lock = threading.Lock()


def verifier_for(jwks_url: str) -> LiveEventVerifier:
    with _lock:
        verifier = _verifiers.get(jwks_url)
        if verifier is None:
            verifier = _verifiers[jwks_url] = LiveEventVerifier(jwks_url)
        return verifier


def _looks_like_jwt(body: bytes) -> bool:
    text = body.strip()
    return text[:1] != b"{" and text.count(b".") == 2


class LiveEvents:
    def __init__(self, source: Any) -> None:
        self.source = source

    def receive(self, *, body: bytes, headers: Mapping[str, str]) -> list[Arrival]:
        content_type = (headers.get("content-type") or headers.get("Content-Type") or "").lower()
        signed = "jwt" in content_type or _looks_like_jwt(body)
        if signed:
            jwks_url = self.source.setting("jwks_url")
            if not jwks_url:
                raise AuthenticationFailed(
                    f"source {self.source.name!r} has no JWKS URL to verify signed Live Events; "
                    "set one with --jwks-url"
                )
            event = live_event_of(verifier_for(jwks_url).verify(body))
        else:
            if self.source.setting("allow_unsigned") != "true":
                raise AuthenticationFailed(
                    f"unsigned Live Events are refused by source {self.source.name!r}; send them signed "
                    "(Sign Payload on), or allow unsigned ones with --allow-unsigned"
                )
            event = parse_json(body)
        return parse_live_event(
            event, source_name=self.source.name, api_user_id=self.source.setting("api_user_id")
        )
