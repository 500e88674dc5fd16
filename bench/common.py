"""Shared by the benchmarks: a scratch PostgreSQL database, Django on it, and processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/test"


def reachable(url: str) -> bool:
    from tests.services import reachable as probe

    return probe(url)


def scratch_database(url: str, name: str) -> str:
    """Create (or recreate) database ``name`` next to ``url``; return its URL."""
    import psycopg

    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    admin.close()
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def django_on(database_url: str, **env: str) -> None:
    """Set up Django in this process on ``database_url``, migrated."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("EDUVAULT_DATA_DIR", "/tmp/eduvault-bench")
    os.environ.setdefault("EDUVAULT_LOG_LEVEL", "WARNING")
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "eduvault.config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def scratch_django(database: str, workdir: Path, postgres: str, prefix: str, **env: str) -> str:
    """Django on a database of the benchmark's own: SQLite in ``workdir``, or a scratch
    PostgreSQL database named ``<prefix>_<pid>`` next to ``postgres`` (returned, to drop)."""
    os.environ["EDUVAULT_DATA_DIR"] = str(workdir)
    os.environ["EDUVAULT_AUTO_MIGRATE"] = "0"
    env.setdefault("EDUVAULT_LOG_LEVEL", "ERROR")
    name = ""
    if database == "postgres":
        if not reachable(postgres):
            raise SystemExit(f"PostgreSQL is not reachable at {postgres}")
        name = f"{prefix}_{os.getpid()}"
        url = scratch_database(postgres, name)
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    django_on(url, **env)
    return name


def drop_scratch(postgres: str, name: str) -> None:
    """Drop a scratch database made by :func:`scratch_django` (its connections closed first)."""
    import psycopg
    from django.db import connections

    connections.close_all()
    if hasattr(connections["default"], "close_pool"):
        connections["default"].close_pool()
    admin = psycopg.connect(postgres, autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


class Helper:
    """A simulator serving in a process of its own (its CPU is not the bench's): ``target``
    is called as ``target(conn, *args)``, sends its first message (``info``), then answers
    ``(command, argument)`` messages until told ``stop``. Thread-safe."""

    def __init__(self, target: Any, *args: Any) -> None:
        import multiprocessing
        import threading

        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=target, args=(child, *args), daemon=True)
        self.process.start()
        self.info = self.conn.recv()
        self.lock = threading.Lock()

    def ask(self, command: str, argument: Any = None) -> Any:
        with self.lock:
            self.conn.send((command, argument))
            return self.conn.recv()

    def stop(self) -> None:
        from contextlib import suppress

        if self.process.is_alive():
            with suppress(EOFError, OSError):
                self.ask("stop")
            self.process.join(10)
            if self.process.is_alive():
                self.process.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """An `eduvault …` process in its own session, stopped with its children."""

    def __init__(self, *args: str, env: dict[str, str], log: Path) -> None:
        self.log = open(log, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "eduvault", *args],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def wait_http(url: str, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
