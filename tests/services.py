"""Which real services the tests run against, decided once per run."""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/test"


DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379, "amqp": 5672}


def reachable(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, 5432)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def choose_database_url() -> str:
    choice = os.environ.get("EDUVAULT_TEST_DB", "auto").lower()
    postgres = os.environ.get("EDUVAULT_TEST_DATABASE_URL", DEFAULT_POSTGRES)
    sqlite = "sqlite:///" + os.path.join(os.environ["EDUVAULT_DATA_DIR"], "eduvault.sqlite3")
    if choice == "sqlite":
        return sqlite
    if reachable(postgres):
        return postgres
    if choice == "postgres" or in_ci():
        sys.stderr.write(
            f"\nPostgreSQL is not reachable at {postgres}; the tests must run against it here "
            "(EDUVAULT_TEST_DB=postgres or CI=true). Start it, or set EDUVAULT_TEST_DB=sqlite.\n"
        )
        raise SystemExit(3)
    sys.stderr.write(f"\nwarning: PostgreSQL is not reachable at {postgres}; testing on SQLite only.\n")
    return sqlite


REDIS_URL = os.environ.get("EDUVAULT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("EDUVAULT_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def require(url: str, what: str) -> None:
    """Skip a test that needs this service when it is down; with CI=true, fail instead."""
    import pytest

    if reachable(url):
        return
    message = f"{what} is not reachable at {url}"
    if in_ci():
        pytest.fail(f"{message}; CI must test against it")
    pytest.skip(message)
