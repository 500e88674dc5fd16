from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "eduvault.monitoring"
    label = "monitoring"
    verbose_name = "Metrics and health"
