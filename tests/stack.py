"""Edu Vault's real processes for end-to-end tests: `eduvault serve` and `eduvault worker`
against the test database and a real broker, and a private Redis that a test may stop."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from tests.conftest import database_env

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, broker_url: str, **settings: str) -> None:
        self.env = database_env()
        self.env.update(
            {
                "EDUVAULT_BROKER_URL": broker_url,
                "EDUVAULT_QUEUE_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
                "EDUVAULT_LEASE_SECONDS": "4",
                "EDUVAULT_SWEEP_SECONDS": "0.5",
                # Long: events must reach the workers by their own dispatch, not by the sweeper
                # (a test of lost messages sets it short).
                "EDUVAULT_REDISPATCH_SECONDS": "60",
                "EDUVAULT_COALESCE_SECONDS": "0.3",
                "EDUVAULT_RETRY_BASE_SECONDS": "0.5",
                "EDUVAULT_HTTP_ATTEMPTS": "1",
                "EDUVAULT_RECONCILE_SECONDS": "0",
                "EDUVAULT_LOG_LEVEL": "INFO",
                "EDUVAULT_LOG_FORMAT": "json",
                # A stopped server closes the streams left open at once (clients resume).
                "EDUVAULT_SHUTDOWN_GRACE_SECONDS": "1",
            }
        )
        self.env.update(settings)
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.logs = Path(tempfile.mkdtemp(prefix="eduvault-stack-"))
        self.port: int | None = None

    def _start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}-{len(self.procs)}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "eduvault", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append((name, proc))
        return proc

    def serve(self, port: int | None = None, *, workers: int = 1) -> str:
        """Start `eduvault serve` (on ``port``, or a free one) and wait until it answers."""
        self.port = port or free_port()
        proc = self._start("serve", "serve", "--port", str(self.port), "--workers", str(workers))
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/api/v1/courses/", timeout=1)
                return url
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"eduvault serve did not start:\n{self.output()}") from None
                time.sleep(0.1)

    def server_process(self) -> subprocess.Popen:
        """The last `eduvault serve` started."""
        return next(proc for name, proc in reversed(self.procs) if name == "serve")

    def worker(self, *args: str) -> subprocess.Popen:
        return self._start("worker", "worker", "--concurrency", "2", *args)

    def kill(self, proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def output(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-8000:]}" for p in sorted(self.logs.iterdir()))

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(self.logs, ignore_errors=True)


class PrivateRedis:
    """A redis-server of the test's own, on its own port, that the test can stop and start."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
