from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _repair(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from eduvault.learning.search.index import install

    connection = connections[using]
    if MigrationRecorder(connection).migration_qs.filter(app="search", name="0001_initial").exists():
        install(connection)


class SearchConfig(AppConfig):
    name = "eduvault.learning.search"
    label = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        post_migrate.connect(_repair, sender=self)
