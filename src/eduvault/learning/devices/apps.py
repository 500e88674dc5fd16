from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "eduvault.learning.devices"
    label = "devices"
    verbose_name = "Offline school devices"

    def ready(self) -> None:
        from eduvault.learning.devices import jobs  # noqa: F401 - old transfer sessions purged
