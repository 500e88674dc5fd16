"""Django settings for Edu Vault, read once from the environment.

Every knob is an environment variable (see the README's Configuration section):

- ``EDUVAULT_DATA_DIR``: where the embedded database and other local state live
  (default: ``$XDG_DATA_HOME/eduvault``, i.e. ``~/.local/share/eduvault``).
- ``DATABASE_URL``: the database (default: an SQLite file in the data directory;
  ``postgres://…`` uses PostgreSQL through psycopg 3).
- ``EDUVAULT_SECRET_KEY``: Django's secret key (default: generated once and kept in the
  data directory).
- ``EDUVAULT_DEBUG``, ``EDUVAULT_ALLOWED_HOSTS``, ``EDUVAULT_LOG_LEVEL``,
  ``EDUVAULT_LOG_FORMAT`` (``console`` or ``json``), ``EDUVAULT_AUTO_MIGRATE``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

import dj_database_url

from eduvault.kernel.logging import configure_logging


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "eduvault"


def _private(path: Path, mode: int) -> None:
    """Take group and other permissions off a path of ours (an older release left 755/644)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        path.chmod(mode)


DATA_DIR = Path(os.environ.get("EDUVAULT_DATA_DIR") or _default_data_dir()).expanduser().resolve()
#: The data directory holds the embedded database (password and token hashes, encrypted
#: credentials) and the secret key: readable by the service's user only.
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
_private(DATA_DIR, 0o700)


def _secret_key() -> str:
    from_env = os.environ.get("EDUVAULT_SECRET_KEY")
    if from_env:
        return from_env
    path = DATA_DIR / "secret_key"
    _private(path, 0o600)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key
    except FileExistsError:  # pragma: no cover - another process wrote it first
        return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _flag("EDUVAULT_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("EDUVAULT_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]

EMBEDDED_DATABASE = DATA_DIR / "eduvault.sqlite3"


def _embedded_database(path: Path) -> None:
    """Create the embedded database file 600 (SQLite gives its -wal and -shm files the same
    mode), and tighten the files of an older release."""
    # There already, or its directory is missing (SQLite will say so): nothing to create.
    with contextlib.suppress(FileExistsError, FileNotFoundError, NotADirectoryError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        _private(path.with_name(path.name + suffix), 0o600)


DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{EMBEDDED_DATABASE}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] not in ("", ":memory:"):
        _embedded_database(Path(DATABASES["default"]["NAME"]))
    DATABASES["default"]["OPTIONS"] = {
        # One writer at a time, taken at BEGIN: no lock upgrades, no deadlocks between
        # concurrent syncs. WAL lets readers go on while a sync writes.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-eduvault.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and _flag("EDUVAULT_DB_POOL", True):
    # Under ASGI every request runs in a thread of its own: without a pool, each would open
    # (and close) its own PostgreSQL connection.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("EDUVAULT_DB_POOL_MIN", "2")),
        "max_size": int(os.environ.get("EDUVAULT_DB_POOL_MAX", "20")),
        "timeout": 10,
    }
AUTO_MIGRATE = _flag("EDUVAULT_AUTO_MIGRATE", True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # In layers, from the bottom (docs/architecture.md).
    "eduvault.kernel",
    "eduvault.identity",
    "eduvault.integrations",
    "eduvault.pipeline.inbox",
    "eduvault.pipeline.outbox",
    "eduvault.pipeline.content",
    "eduvault.pipeline.feed",
    "eduvault.pipeline.records",
    "eduvault.pipeline.sync",
    "eduvault.pipeline.communities",
    "eduvault.learning.assessments",
    "eduvault.learning.lti",
    "eduvault.learning.devices",
    "eduvault.learning.search",
    "eduvault.operations.monitoring",
    "eduvault.operations.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "eduvault.kernel.middleware.RequestContextMiddleware",
    "eduvault.kernel.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "eduvault.config.urls"
ASGI_APPLICATION = "eduvault.config.asgi.application"
WSGI_APPLICATION = "eduvault.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
SERVESTATIC_USE_FINDERS = True  # serve admin assets without a collectstatic step

# Request bodies: the API reads small JSON documents; anything bigger is refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
EDUVAULT_MAX_REQUEST_BYTES = 1024 * 1024
#: JSON bodies nested deeper than this are refused with 400 (see eduvault.kernel.bodies).
EDUVAULT_MAX_JSON_DEPTH = int(os.environ.get("EDUVAULT_MAX_JSON_DEPTH", "32"))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["eduvault.identity.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["eduvault.identity.permissions.HasApiToken"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["eduvault.kernel.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "eduvault.kernel.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "eduvault.kernel.problems.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Never read X-Forwarded-For here: `eduvault serve` puts the client's address in
    # REMOTE_ADDR, from the proxies listed in EDUVAULT_TRUSTED_PROXIES only.
    "NUM_PROXIES": 0,
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("EDUVAULT_PASSWORD_MIN_LENGTH", "8"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SPECTACULAR_SETTINGS = {
    "TITLE": "Edu Vault API",
    "DESCRIPTION": "Synchronized course trees, their versions, sync runs and changes.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The stream and the webhook intake are not DRF views: their apps describe them.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "eduvault.kernel.openapi.add_documented_paths",
    ],
    "SERVE_PERMISSIONS": ["eduvault.identity.permissions.HasApiToken"],
    "SERVE_AUTHENTICATION": ["eduvault.identity.authentication.ApiTokenAuthentication"],
    "ENUM_NAME_OVERRIDES": {
        "DeliveryStatusEnum": "eduvault.pipeline.outbox.models.Delivery.Status",
        "InboundEventStatusEnum": "eduvault.pipeline.inbox.models.InboundEvent.Status",
        "AssessmentKindEnum": "eduvault.learning.assessments.models.Assessment.Kind",
        "AssessmentStatusEnum": "eduvault.learning.assessments.models.Assessment.Status",
        "AttemptStatusEnum": "eduvault.learning.assessments.models.Attempt.Status",
        "AssessmentFeedbackEnum": "eduvault.learning.assessments.models.Assessment.Feedback",
        "RecordKindEnum": "eduvault.cores.records.policy.KINDS",
    },
    # <id:…> path parameters (eduvault.kernel.converters): row ids in a signed 64-bit column.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**63 - 1}
    },
}

# Open edX block type -> canonical kind overrides, e.g. '{"library_content": "unit"}'.
EDUVAULT_OPENEDX_KIND_MAP = os.environ.get("EDUVAULT_OPENEDX_KIND_MAP", "")
EDUVAULT_HTTP_TIMEOUT = float(os.environ.get("EDUVAULT_HTTP_TIMEOUT", "30"))
EDUVAULT_HTTP_ATTEMPTS = int(os.environ.get("EDUVAULT_HTTP_ATTEMPTS", "4"))

# -- event processing --------------------------------------------------------------------
# Celery broker (redis://… or amqp://…); empty: an in-process worker drains the inbox.
EDUVAULT_BROKER_URL = os.environ.get("EDUVAULT_BROKER_URL", "")
#: Queues are named <prefix>.critical, <prefix>.high and <prefix>.background.
EDUVAULT_QUEUE_PREFIX = os.environ.get("EDUVAULT_QUEUE_PREFIX", "eduvault")
#: Event type -> priority class overrides, e.g. '{"org.openedx.learning…": "critical"}'
#: (the classes: eduvault.kernel.priorities).
EDUVAULT_EVENT_PRIORITIES = json.loads(os.environ.get("EDUVAULT_EVENT_PRIORITIES") or "{}")
EDUVAULT_MAX_ATTEMPTS = int(os.environ.get("EDUVAULT_MAX_ATTEMPTS", "10"))
EDUVAULT_RETRY_BASE_SECONDS = float(os.environ.get("EDUVAULT_RETRY_BASE_SECONDS", "10"))
EDUVAULT_RETRY_MAX_SECONDS = float(os.environ.get("EDUVAULT_RETRY_MAX_SECONDS", "3600"))
#: How long a worker's claim on an event lasts before another worker may take it over.
EDUVAULT_LEASE_SECONDS = float(os.environ.get("EDUVAULT_LEASE_SECONDS", "300"))
#: A burst of events for one course is coalesced: the first syncs at once, the rest once
#: the course has been quiet this long (but never waiting more than the maximum).
EDUVAULT_COALESCE_SECONDS = float(os.environ.get("EDUVAULT_COALESCE_SECONDS", "1.5"))
EDUVAULT_COALESCE_MAX_SECONDS = float(os.environ.get("EDUVAULT_COALESCE_MAX_SECONDS", "15"))
#: How often workers sweep the inbox (expired leases, events a broker lost).
EDUVAULT_SWEEP_SECONDS = float(os.environ.get("EDUVAULT_SWEEP_SECONDS", "5"))
#: A due event handed to the broker this long ago and still pending is handed over again.
EDUVAULT_REDISPATCH_SECONDS = float(os.environ.get("EDUVAULT_REDISPATCH_SECONDS", "30"))
#: How often the outbox's deliverer looks for due deliveries when nothing woke it.
EDUVAULT_DELIVER_SECONDS = float(os.environ.get("EDUVAULT_DELIVER_SECONDS", "1"))
#: How often expired refresh tokens and old sign-in counts are purged.
EDUVAULT_PURGE_SECONDS = float(os.environ.get("EDUVAULT_PURGE_SECONDS", "3600"))
#: How often every source's courses are reconciled (0: never).
EDUVAULT_RECONCILE_SECONDS = float(os.environ.get("EDUVAULT_RECONCILE_SECONDS", "3600"))
#: How often learner records are read back from the platforms (lost events repaired).
#: How often the rosters of LMS courses launched from are looked at (read again when a day old).
EDUVAULT_LTI_ROSTER_SECONDS = float(os.environ.get("EDUVAULT_LTI_ROSTER_SECONDS", "3600"))
#: Where platforms reach this server (LTI login, launch and key URLs); empty: from each request.
EDUVAULT_PUBLIC_URL = os.environ.get("EDUVAULT_PUBLIC_URL", "")
EDUVAULT_RECORDS_RECONCILE_SECONDS = float(os.environ.get("EDUVAULT_RECORDS_RECONCILE_SECONDS", "3600"))
#: How often each course community is brought in step again (repairing what was missed).
EDUVAULT_COMMUNITY_RECONCILE_SECONDS = float(os.environ.get("EDUVAULT_COMMUNITY_RECONCILE_SECONDS", "3600"))
#: Learner records' deliveries by priority class: critical ones go at once; high ones are
#: batched within this window (at most 900 s), background ones within the next.
EDUVAULT_HIGH_WINDOW_SECONDS = float(os.environ.get("EDUVAULT_HIGH_WINDOW_SECONDS", "300"))
EDUVAULT_BACKGROUND_WINDOW_SECONDS = float(os.environ.get("EDUVAULT_BACKGROUND_WINDOW_SECONDS", "3600"))
#: Source-of-truth policies (a TOML file; empty: the shipped defaults).
EDUVAULT_POLICIES_FILE = os.environ.get("EDUVAULT_POLICIES_FILE", "")

#: A source whose oldest waiting event has waited longer than this shows as lagging.
EDUVAULT_LAG_WARN_SECONDS = float(os.environ.get("EDUVAULT_LAG_WARN_SECONDS", "300"))

# -- propagation -----------------------------------------------------------------------------
#: How stream servers learn that the feed moved: "" (PostgreSQL LISTEN/NOTIFY when the
#: database is PostgreSQL, else polling), or a redis://… URL for Redis pub/sub.
EDUVAULT_NOTIFY_URL = os.environ.get("EDUVAULT_NOTIFY_URL", "")
EDUVAULT_STREAM_HEARTBEAT_SECONDS = float(os.environ.get("EDUVAULT_STREAM_HEARTBEAT_SECONDS", "15"))
#: Search (PostgreSQL): how many matching rows of each type are ranked, at most.
EDUVAULT_SEARCH_CANDIDATES = int(os.environ.get("EDUVAULT_SEARCH_CANDIDATES", "5000"))
#: On SIGTERM, how long `eduvault serve` lets requests finish before closing what is open.
EDUVAULT_SHUTDOWN_GRACE_SECONDS = float(os.environ.get("EDUVAULT_SHUTDOWN_GRACE_SECONDS", "5"))
#: Threads per `eduvault serve` process for short requests (the stream stays on the event
#: loop). Requests are mostly CPU under one interpreter lock: more threads than a few only
#: queue on the lock and on each other's row locks (on 2 cores, 2 processes × 20 threads
#: started 32 attempts a second where 2 × 3 started 50; `bench/exams.py --threads`).
EDUVAULT_SERVER_THREADS = max(1, int(os.environ.get("EDUVAULT_SERVER_THREADS", "4")))
#: How long a stream ticket (POST /api/v1/stream/tickets) may wait to be used, once.
EDUVAULT_STREAM_TICKET_SECONDS = int(os.environ.get("EDUVAULT_STREAM_TICKET_SECONDS", "60"))
#: A stream client with this many changes waiting to be sent is told to catch up from the feed.
EDUVAULT_STREAM_QUEUE = int(os.environ.get("EDUVAULT_STREAM_QUEUE", "1000"))
#: Outbound webhooks: destination hosts or networks allowed even though they are private or
#: loopback (comma-separated, e.g. "10.0.0.0/8,hooks.internal").
EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS = [
    h.strip() for h in os.environ.get("EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS", "").split(",") if h.strip()
]
#: A subscription failing this long is disabled and flagged.
EDUVAULT_WEBHOOK_DISABLE_AFTER_SECONDS = float(
    os.environ.get("EDUVAULT_WEBHOOK_DISABLE_AFTER_SECONDS", "86400")
)
EDUVAULT_WEBHOOK_TIMEOUT = float(os.environ.get("EDUVAULT_WEBHOOK_TIMEOUT", "10"))

# -- accounts ---------------------------------------------------------------------------------
#: Failed sign-ins allowed per client address, and per account (then 429 until the window ends).
EDUVAULT_SIGN_IN_RATE = os.environ.get("EDUVAULT_SIGN_IN_RATE", "30/min")
EDUVAULT_SIGN_IN_ACCOUNT_RATE = os.environ.get("EDUVAULT_SIGN_IN_ACCOUNT_RATE", "10/15min")
#: Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (addresses or
#: networks, comma-separated, e.g. "127.0.0.1,10.0.0.0/8"); none by default, so no client
#: can choose the address it is throttled by.
EDUVAULT_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("EDUVAULT_TRUSTED_PROXIES", "").split(",") if p.strip()
]
#: Key material for access tokens (default: derived from the secret key).
EDUVAULT_JWT_SECRET = os.environ.get("EDUVAULT_JWT_SECRET", "")
EDUVAULT_ACCESS_TOKEN_SECONDS = int(os.environ.get("EDUVAULT_ACCESS_TOKEN_SECONDS", "900"))
EDUVAULT_REFRESH_TOKEN_SECONDS = int(os.environ.get("EDUVAULT_REFRESH_TOKEN_SECONDS", str(14 * 86400)))
#: A used refresh token presented again within this many seconds (a retry whose answer was
#: lost) gets a new pair; later, it revokes its whole family.
EDUVAULT_REFRESH_REUSE_SECONDS = float(os.environ.get("EDUVAULT_REFRESH_REUSE_SECONDS", "10"))

# -- assessments ------------------------------------------------------------------------------
#: A subtopic is mastered when the probability that it is known reaches this.
EDUVAULT_MASTERY_THRESHOLD = float(os.environ.get("EDUVAULT_MASTERY_THRESHOLD", "0.95"))
#: Timed exams: extra seconds after the time limit during which answers are still taken (for
#: the network), unless an exam sets its own.
EDUVAULT_EXAM_GRACE_SECONDS = int(os.environ.get("EDUVAULT_EXAM_GRACE_SECONDS", "30"))
#: A device sync's chunks: records (uncompressed) per chunk near this many bytes; a pushed
#: chunk goes up in parts of at most this many bytes (a cut resends at most one part).
EDUVAULT_DEVICE_CHUNK_BYTES = int(os.environ.get("EDUVAULT_DEVICE_CHUNK_BYTES", str(512 * 1024)))
EDUVAULT_DEVICE_PART_BYTES = int(os.environ.get("EDUVAULT_DEVICE_PART_BYTES", str(64 * 1024)))
#: A device's clock further than this from the server's flags the timed attempts it ran.
EDUVAULT_DEVICE_CLOCK_TOLERANCE_SECONDS = float(os.environ.get("EDUVAULT_DEVICE_CLOCK_TOLERANCE_SECONDS", "120"))
#: How often workers close attempts whose deadline has passed.
EDUVAULT_EXAM_SWEEP_SECONDS = float(os.environ.get("EDUVAULT_EXAM_SWEEP_SECONDS", "60"))

LOGGING_CONFIG = None
configure_logging(
    level=os.environ.get("EDUVAULT_LOG_LEVEL", "INFO"),
    fmt=os.environ.get("EDUVAULT_LOG_FORMAT", ""),
)
