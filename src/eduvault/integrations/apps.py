from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "eduvault.integrations"
    label = "integrations"
    verbose_name = "Sources and integrations"

    def ready(self) -> None:
        from eduvault.integrations.canvas import integration as canvas  # noqa: F401 - registers Canvas
        from eduvault.integrations.openedx import integration  # noqa: F401 - registers Open edX
