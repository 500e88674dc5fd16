"""Database helpers shared by the apps."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from eduvault.kernel.errors import EduVaultError


@contextmanager
def consistent_read() -> Iterator[None]:
    """A transaction whose reads all see one snapshot of the database.

    PostgreSQL's default (read committed) lets two queries see different commits; repeatable
    read fixes the snapshot at the first query. SQLite transactions are snapshots already.
    Inside an outer transaction, that transaction decides (a caller holding the course's
    row lock already reads a course that cannot change under it).
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


#: Tables only Edu Vault 0.1 had (its apps were renamed when the packages took their layers).
EARLIER_LAYOUT = frozenset({"connectors_source", "core_apitoken", "sync_change"})


def ensure_schema() -> None:
    """Apply pending migrations when ``EDUVAULT_AUTO_MIGRATE`` is on (the default).

    On PostgreSQL an advisory lock keeps two processes starting at once from migrating
    together.
    """
    tables = set(connection.introspection.table_names())
    if tables & EARLIER_LAYOUT:
        raise EduVaultError(
            f"this database ({connection.settings_dict['NAME']}) was made by Edu Vault 0.1, whose layout this "
            "version cannot upgrade in place; keep it aside and start a new one (a new EDUVAULT_DATA_DIR, or a "
            "new DATABASE_URL)"
        )
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    if not executor.migration_plan(targets):
        return
    if not settings.AUTO_MIGRATE:
        raise EduVaultError("the database schema is not up to date; run 'eduvault migrate'")
    lock = connection.vendor == "postgresql"
    if lock:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext('eduvault-migrate'))")
    try:
        call_command("migrate", interactive=False, verbosity=0)
    finally:
        if lock:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext('eduvault-migrate'))")


def released(function):
    """Wrap a database read for ``sync_to_async(thread_sensitive=False)`` from a long-lived
    async view: the thread gives its connection back (to the pool) as soon as it is done,
    instead of holding it for as long as the stream lasts."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    return run
