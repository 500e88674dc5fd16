from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "eduvault.core"
    label = "core"
    verbose_name = "Edu Vault core"

    def ready(self) -> None:
        from django.urls import register_converter

        from eduvault.core import schema  # noqa: F401 - registers the OpenAPI authentication scheme
        from eduvault.core.converters import IdConverter

        register_converter(IdConverter, "id")
