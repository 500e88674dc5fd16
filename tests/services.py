"""Which real services the tests run against, decided once per run."""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/test"


def reachable(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=timeout):
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
