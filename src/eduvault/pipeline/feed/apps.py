from django.apps import AppConfig


class FeedConfig(AppConfig):
    name = "eduvault.pipeline.feed"
    label = "feed"
    verbose_name = "Change feed and subscriptions"

    def ready(self) -> None:
        from eduvault.pipeline.feed import (
            jobs,  # noqa: F401 - the subscription pump
            webhooks,  # noqa: F401 - the webhook delivery channel
        )
