from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "eduvault.sync"
    label = "sync"
    verbose_name = "Synchronization"
