from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "eduvault.learning.devices"
    label = "devices"
    verbose_name = "Offline school devices"
