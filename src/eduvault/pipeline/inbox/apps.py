from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "eduvault.pipeline.inbox"
    label = "inbox"
    verbose_name = "Inbound events"

    def ready(self) -> None:
        from eduvault.pipeline.inbox import jobs  # noqa: F401 - the sweep
