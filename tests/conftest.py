"""Shared fixtures: the Open edX simulator, registered sources, API clients, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from eduvault.integrations.openedx.simulator import OpenEdxSimulator, SimulatedCourse

CLIENT_ID, CLIENT_SECRET = "eduvault-sync", "s3cret-client-secret"
COURSE_KEY = "course-v1:MIE+MATH-T+2026_T1"


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"eduvault database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or ''} {db['NAME']}"


def small_course(key: str = COURSE_KEY) -> SimulatedCourse:
    """Two topics, three subtopics, a handful of units and components."""
    org, number, run = key.removeprefix("course-v1:").split("+")
    course = SimulatedCourse(org, number, run, "Test Mathematics", start="2026-01-05T07:30:00Z")
    algebra = course.add(course.root, "chapter", "Algebra", block_id="algebra")
    quad = course.add(algebra, "sequential", "Quadratics", block_id="quadratics")
    for u in range(3):
        unit = course.add(quad, "vertical", f"Quadratics unit {u + 1}", block_id=f"quad-u{u}")
        course.add(unit, "html", f"Reading {u + 1}", block_id=f"quad-u{u}-html")
        course.add(unit, "problem", f"Problem {u + 1}", block_id=f"quad-u{u}-p", weight=1.0)
    test = course.add(
        algebra,
        "sequential",
        "Algebra test",
        block_id="algebra-test",
        graded=True,
        format="Topic Test",
        due="2026-02-13T23:59:00Z",
    )
    unit = course.add(test, "vertical", "Test questions", block_id="test-u")
    for p in range(3):
        course.add(unit, "problem", f"Test problem {p + 1}", block_id=f"test-p{p}", weight=2.0)
    geometry = course.add(course.root, "chapter", "Geometry", block_id="geometry")
    circles = course.add(geometry, "sequential", "Circles", block_id="circles")
    unit = course.add(circles, "vertical", "Circle theorems", block_id="circles-u")
    course.add(unit, "video", "Angles in a semicircle", block_id="circles-video")
    return course


@pytest.fixture
def simulator() -> Iterator[OpenEdxSimulator]:
    with OpenEdxSimulator() as sim:
        sim.add_client(CLIENT_ID, CLIENT_SECRET)
        yield sim


@pytest.fixture
def course(simulator: OpenEdxSimulator) -> SimulatedCourse:
    return simulator.add_course(small_course())


@pytest.fixture
def source(db, simulator: OpenEdxSimulator):
    from eduvault.integrations.services import source_add

    return source_add(
        platform="openedx",
        name="lms",
        base_url=simulator.base_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )


@pytest.fixture
def admin_token(db) -> str:
    from eduvault.identity.services import token_create

    return token_create(name="admin", role="admin")[1]


@pytest.fixture
def api(admin_token: str):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_token}")
    return client


def database_env() -> dict[str, str]:
    """Environment for a child process that must use this test run's database."""
    settings = connection.settings_dict
    env = dict(os.environ)
    if connection.vendor == "postgresql":
        user = settings.get("USER") or "postgres"
        host = settings.get("HOST") or "127.0.0.1"
        port = settings.get("PORT") or 5432
        env["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{settings['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{settings['NAME']}"
    env["DJANGO_SETTINGS_MODULE"] = "eduvault.config.settings"
    env["EDUVAULT_AUTO_MIGRATE"] = "0"  # the test database is migrated already
    env["EDUVAULT_LOG_LEVEL"] = "WARNING"
    return env


def run_cli(*args: str, check: bool = False, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run ``eduvault ARGS…`` in a child process against the test database."""
    result = subprocess.run(
        [sys.executable, "-m", "eduvault", *args],
        capture_output=True,
        text=True,
        env=kwargs.pop("env", None) or database_env(),
        timeout=timeout,
        cwd=Path(__file__).parent.parent,
        **kwargs,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"eduvault {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(autouse=True)
def _fresh_source_cache():
    """Each test registers its own sources; forget those of the test before."""
    from eduvault.integrations.lti import keys
    from eduvault.pipeline.inbox import services

    services._sources.clear()
    keys._published_changed()  # the tool's keys are each test's own too
    yield
    services._sources.clear()
    keys._published_changed()
