from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "eduvault.pipeline.records"
    label = "records"
    verbose_name = "Learner records"

    def ready(self) -> None:
        from eduvault.pipeline.records import (
            deliveries,  # noqa: F401 - the records delivery channel
            jobs,  # noqa: F401 - the records reconcile
            work,  # noqa: F401 - the inbox's record work
        )
