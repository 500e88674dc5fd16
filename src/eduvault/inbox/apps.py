from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "eduvault.inbox"
    label = "inbox"
    verbose_name = "Inbound events"

    def ready(self) -> None:
        # The event types each platform sends are registered by its connector.
        from eduvault.connectors.openedx import events  # noqa: F401
