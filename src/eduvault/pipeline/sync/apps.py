from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "eduvault.pipeline.sync"
    label = "sync"
    verbose_name = "Synchronization"

    def ready(self) -> None:
        from eduvault.pipeline.sync import jobs, work  # noqa: F401 - the reconcile; the inbox's course work
