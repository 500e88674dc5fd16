from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "eduvault.pipeline.communities"
    label = "communities"
    verbose_name = "Course communities"

    def ready(self) -> None:
        from eduvault.pipeline.communities import (
            deliveries,  # noqa: F401 - the community delivery channel
            jobs,  # noqa: F401 - the community reconcile
            watchers,  # noqa: F401 - what a sync or a record change asks of a community
        )
