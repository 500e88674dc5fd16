from django.apps import AppConfig
from django.conf import settings
from django.db.backends.signals import connection_created


def _sqlite_pragmas(sender, connection, **kwargs):
    if connection.vendor == "sqlite" and settings.BENCH_SQLITE_WAL:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")


class BenchAppConfig(AppConfig):
    name = "benchapp"
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        connection_created.connect(_sqlite_pragmas)
