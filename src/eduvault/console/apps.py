from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "eduvault.console"
    label = "console"
    verbose_name = "Operations console"
