from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "eduvault.connectors"
    label = "connectors"
    verbose_name = "Sources and connectors"

    def ready(self) -> None:
        # Register the connectors that ship with Edu Vault.
        from eduvault.connectors.openedx import connector  # noqa: F401
