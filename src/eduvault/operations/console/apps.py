from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "eduvault.operations.console"
    label = "console"
    verbose_name = "Operations console"
