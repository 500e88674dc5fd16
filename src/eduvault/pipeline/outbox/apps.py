from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "eduvault.pipeline.outbox"
    label = "outbox"
    verbose_name = "Outbox: deliveries to platforms and consumers"

    def ready(self) -> None:
        from eduvault.pipeline.outbox import jobs  # noqa: F401 - the deliverer and its sweep
