from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "eduvault.core"
    label = "core"
    verbose_name = "Edu Vault core"
