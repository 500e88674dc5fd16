from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "eduvault.operations.monitoring"
    label = "monitoring"
    verbose_name = "Metrics and health"
