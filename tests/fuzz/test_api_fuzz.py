"""Schemathesis against a served instance: no request, from any role, gets a 5xx, and
every response is as the schema says (its status documented, its content type, its body).

``eduvault serve`` runs on a database of its own (a fresh PostgreSQL database, or SQLite
file, like the run's), seeded with something of everything (``tests/fuzz/seed.py``). For
every operation of the OpenAPI schema, Hypothesis generates requests (valid and invalid
bodies, queries, path parameters and headers); each is sent with the credentials of every
role (admin and consumer API tokens; a learner's, an instructor's and an admin's JWT), and,
where the operation names a resource, once more against the seeded resources, so that the
code behind the lookups is reached too. Any answer of 500 or more, or one the schema does
not describe, fails the test with the request to replay it.

The examples per operation are bounded (``EDUVAULT_FUZZ_EXAMPLES``, 12 by default) so the
module takes a minute or two.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg
import pytest
import schemathesis
from django.db import connection
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import database_env
from tests.stack import ROOT, Stack

EXAMPLES = int(os.environ.get("EDUVAULT_FUZZ_EXAMPLES", "12"))

pytestmark = pytest.mark.slow


@dataclass
class FuzzTarget:
    url: str
    credentials: dict[str, str]
    #: Path parameters naming the seeded resources.
    resources: dict[str, str]
    stack: Stack


def _fresh_database(tmp: Path) -> tuple[str, str | None]:
    """A new, empty database of the run's kind: (its URL, its PostgreSQL name to drop)."""
    if connection.vendor != "postgresql":
        return f"sqlite:///{tmp / 'fuzz.sqlite3'}", None
    params = connection.settings_dict
    name = f"eduvault_fuzz_{os.getpid()}"
    host, port, user = (
        params.get("HOST") or "127.0.0.1",
        params.get("PORT") or 5432,
        params.get("USER") or "postgres",
    )
    with psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://{user}@{host}:{port}/{name}", name


def _drop(name: str) -> None:
    params = connection.settings_dict
    with psycopg.connect(
        host=params.get("HOST") or "127.0.0.1",
        port=params.get("PORT") or 5432,
        user=params.get("USER") or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory, django_db_blocker) -> Iterator[FuzzTarget]:
    tmp = tmp_path_factory.mktemp("fuzz")
    with django_db_blocker.unblock():
        database_url, postgres_name = _fresh_database(tmp)
    env = {
        **database_env(),
        "DATABASE_URL": database_url,
        "EDUVAULT_DATA_DIR": str(tmp),
        "EDUVAULT_AUTO_MIGRATE": "1",
        "EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS": "127.0.0.1",
    }
    subprocess.run(
        [sys.executable, "-m", "eduvault", "migrate", "-v0"], env=env, cwd=ROOT, check=True, timeout=120
    )
    seeded = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.seed"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=120,
    )
    seed = orjson.loads(seeded.stdout.splitlines()[-1])
    stack = Stack("", **{k: v for k, v in env.items() if k.startswith(("EDUVAULT_", "DATABASE_URL"))})
    stack.env["EDUVAULT_BROKER_URL"] = ""
    stack.env["EDUVAULT_LOG_FORMAT"] = "json"
    try:
        url = stack.serve()
        yield FuzzTarget(
            url=url,
            credentials=seed["credentials"],
            resources={
                "key": seed["course"],
                "question_key": seed["question"],
                "assessment_id": str(seed["assessment"]),
                "attempt_id": seed["attempt"],
                "run_id": str(seed["run"]),
                "event_id": str(seed["event"]),
                "subscription_id": str(seed["subscription"]),
                "username": seed["learner"],
            },
            stack=stack,
        )
    finally:
        stack.stop()
        if postgres_name:
            with django_db_blocker.unblock():
                _drop(postgres_name)


def _openapi() -> dict:
    """The schema the server serves at /api/schema/ (generated from the same code)."""
    from drf_spectacular.generators import SchemaGenerator

    return orjson.loads(orjson.dumps(SchemaGenerator().get_schema(request=None, public=True)))


#: The response is one the schema documents: its status, its content type, and its body
#: matching the schema given for that status (every error: a problem, by ``default``).
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]

# The stream never ends (heartbeats keep it open): it has tests of its own.
schema = schemathesis.openapi.from_dict(_openapi()).exclude(path="/api/v1/stream")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_request_from_any_role_gets_a_server_error(case, fuzz_target: FuzzTarget):
    variants = [dict(case.path_parameters or {})]
    if case.path_parameters and set(case.path_parameters) <= set(fuzz_target.resources):
        variants.append({name: fuzz_target.resources[name] for name in case.path_parameters})
    for role, credential in fuzz_target.credentials.items():
        for path_parameters in variants:
            case.path_parameters = path_parameters or case.path_parameters
            response = case.call(
                base_url=fuzz_target.url, headers={"Authorization": f"Bearer {credential}"}, timeout=30
            )
            replay = (
                f"{role}: {case.method} {case.formatted_path} answered {response.status_code}\n"
                f"{case.as_curl_command(headers={'Authorization': '[' + role + ']'}, base_url=fuzz_target.url)}\n"
                f"{response.text[:2000]}"
            )
            assert response.status_code < 500, f"{replay}\n{fuzz_target.stack.output()[-6000:]}"
            try:
                case.validate_response(response, checks=CONFORMANCE)
            except Exception as exc:  # schemathesis reports every failed check at once
                raise AssertionError(f"{replay}\n\nnot as the schema says:\n{exc}") from None
