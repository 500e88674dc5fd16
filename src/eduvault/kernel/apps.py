from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "eduvault.kernel"
    label = "kernel"
    verbose_name = "Kernel"

    def ready(self) -> None:
        from django.urls import register_converter

        from eduvault.kernel.converters import IdConverter

        register_converter(IdConverter, "id")
