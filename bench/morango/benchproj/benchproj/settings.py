"""Settings shared by the "server" and the "device" instance of the morango baseline.

Each instance is a separate process with its own SQLite file, given by BENCH_DB.
"""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SECRET_KEY = "morango-bench-not-secret"
DEBUG = False  # DEBUG=True would keep every SQL query in memory and skew RSS
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "morango",
    "benchapp",
]
# Current Kolibri (Django 3.2) has no GZipMiddleware, so morango's pull responses go
# out uncompressed (pushed chunks are gzipped by morango itself). BENCH_GZIP_RESPONSES=1
# adds it, as Kolibri <= 0.12 had.
MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware"] if os.environ.get("BENCH_GZIP_RESPONSES") == "1" else []
ROOT_URLCONF = "benchproj.urls"
WSGI_APPLICATION = "benchproj.wsgi.application"
AUTH_USER_MODEL = "benchapp.BenchUser"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DB", os.path.join(BASE_DIR, "bench.sqlite3")),
        "OPTIONS": {"timeout": 60},
    }
}

USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

REST_FRAMEWORK = {
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

# SQLite pragmas applied to every connection (see benchapp/apps.py). Kolibri also
# runs its SQLite databases in WAL mode. Set BENCH_SQLITE_WAL=0 to keep the default.
BENCH_SQLITE_WAL = os.environ.get("BENCH_SQLITE_WAL", "1") == "1"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BENCH_LOG_LEVEL", "WARNING")},
}
