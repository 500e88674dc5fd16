"""The Discourse integration: what a source needs, and what it can do."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from eduvault.integrations.base import CommunityWriter, Integration, WebhookReceiver, register
from eduvault.integrations.discourse.client import DiscourseClient
from eduvault.integrations.discourse.community import DiscourseCommunity
from eduvault.integrations.discourse.webhooks import DiscourseWebhooks
from eduvault.kernel.errors import InvalidInput

#: Discourse's default ``max_admin_api_reqs_per_minute``.
DEFAULT_PER_MINUTE = 60


@register("discourse")
class Discourse(Integration):
    title = "Discourse"
    settings_fields = ("api_username",)
    #: ``connect_ids``: what the DiscourseConnect ``external_id`` of the forum's accounts
    #: names (``sis``: SIS ids; ``eduvault``: Edu Vault usernames; a source's name: that
    #: platform's user ids); ``create_people``: accounts that match nobody become new people;
    #: ``per_minute``: the forum's admin API rate limit, if not Discourse's default 60.
    optional_settings = ("connect_ids", "create_people", "per_minute")
    secret_fields = ("api_key",)
    requires_webhook_secret = True

    def per_minute(self) -> int:
        value = self.source.setting("per_minute") or DEFAULT_PER_MINUTE
        try:
            return max(1, int(value))
        except ValueError:
            raise InvalidInput(f"per_minute of {self.source.name} is {value!r}, not a number") from None

    def client(self, *, attempts: int | None = None) -> DiscourseClient:
        return DiscourseClient(
            self.source.base_url,
            self.source.credential("api_key"),
            self.source.setting("api_username"),
            timeout=settings.EDUVAULT_HTTP_TIMEOUT,
            attempts=settings.EDUVAULT_HTTP_ATTEMPTS if attempts is None else attempts,
            per_minute=self.per_minute(),
        )

    def discover(self) -> dict[str, Any]:
        with self.client(attempts=2) as client:
            about = client.about()
        version = about.get("version") if isinstance(about, dict) else None
        return {"version": str(version)} if version else {}

    def webhooks(self) -> WebhookReceiver:
        return DiscourseWebhooks(self.source)

    def community(self) -> CommunityWriter:
        return DiscourseCommunity(self.source, self.client())

    @classmethod
    def check_values(cls, values: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        settings_, secrets = super().check_values(values)
        connect = settings_.get("connect_ids", "")
        if connect and (":" in connect or len(connect) > 200):
            raise InvalidInput("connect_ids is sis, eduvault or a source's name")
        return settings_, secrets
