"""The feed's periodic work: turning new entries into webhook deliveries (woken when entries
commit in this process)."""

from __future__ import annotations

from django.conf import settings

from eduvault.kernel.periodic import periodic
from eduvault.pipeline.feed import broadcast
from eduvault.pipeline.feed.webhooks import subscriptions_pump


@periodic(
    "feed.subscriptions",
    every=lambda: settings.EDUVAULT_DELIVER_SECONDS,
    listen=broadcast.listen_locally,
    unlisten=broadcast.stop_listening,
)
def pump() -> dict[str, int]:
    return subscriptions_pump()
