"""Settings for the test suite: the real settings, on the database the run chose.

``EDUVAULT_TEST_DB`` picks it: ``postgres`` (fail if PostgreSQL is unreachable), ``sqlite``,
or ``auto`` (the default: PostgreSQL when reachable, else SQLite with a warning; with
``CI=true``, unreachable PostgreSQL is an error). ``EDUVAULT_TEST_DATABASE_URL`` says where
PostgreSQL is (default ``postgres://postgres@127.0.0.1:5432/test``; the tests use a
``test_``-prefixed database next to it).
"""

import os
import tempfile

os.environ.setdefault("EDUVAULT_DATA_DIR", tempfile.mkdtemp(prefix="eduvault-tests-"))
os.environ.setdefault("EDUVAULT_LOG_LEVEL", "WARNING")

from tests.services import choose_database_url

os.environ["DATABASE_URL"] = choose_database_url()

from eduvault.config.settings import *  # noqa: F403
from eduvault.config.settings import DATA_DIR, DATABASES

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: tests start worker processes that must see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-eduvault.sqlite3")}
else:
    # One database per test run, so runs on the same server do not trip over each other.
    DATABASES["default"]["TEST"] = {"NAME": f"test_eduvault_{os.getpid()}"}

# Fast password hashing: tests create many people (production keeps Django's PBKDF2, which
# this process still verifies: people added by the CLI in a child process).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Sign-in throttling is tested on its own (tests/identity/test_throttling.py sets the rates).
EDUVAULT_SIGN_IN_RATE = EDUVAULT_SIGN_IN_ACCOUNT_RATE = "10000/min"
