"""Benchmark: offline devices' sync (issue 15) against Kolibri's morango, on the same records,
in the same run.

Every scenario has a fresh server (``eduvault serve``, one process, on a copy of a template
database: SQLite by default, ``--database postgres`` for PostgreSQL) holding one course with
a bank of ``--questions`` (200) questions in one subtopic (its practice assessment) and
``--learners`` (40) learners enrolled, and a fresh device (its own EDUVAULT_DATA_DIR and
embedded SQLite) paired with ``eduvault device add`` / ``device join`` and synced once (the
class: course, questions, assessment, accounts, enrollments). The device reaches the server
through a TCP proxy on loopback that counts the bytes each way (HTTP headers and bodies);
the measured thing is one ``eduvault device sync --json`` process: its ``seconds`` (the
sync inside the process, as morango's measured window is), its wall time (process start
included), its peak RSS (``ru_maxrss`` from ``wait4``), and the server's peak RSS (VmHWM,
reset through ``/proc/PID/clear_refs`` just before), and both sides' CPU seconds.

Records: attempt logs in the morango harness's format (``bench/morango/records.py``:
id, learner, attempt, question, answer, correct, score, created), written once to files that
both engines load. On Edu Vault one record is one ``Answer`` (client id = the record's id,
answer = its JSON, ``result`` empty); records are grouped by ``attempt`` into submitted
``Attempt`` rows of the practice assessment with one ``Response`` (the draw) per question
answered; a record's ``question`` (``exercise-E/qJ``) maps onto bank question
``q-((E*20+J) mod questions)``. Rows are put in with ``bulk_create`` by a Python process on
the database concerned (not measured).

1. Push (``--counts``, default 1,000 10,000 100,000): the device holds the first N records
   and syncs (a pull that finds nothing new, then the push). After it the server must hold
   exactly N answers from the device (checked in its database). Then one more sync
   (``--no-follow-up`` skips it): what the server sends back (the grades and masteries it
   derived from the push), and a check that nothing goes up again (an echo fails the run).
   The gaps between the chunks' PUTs, by tenth of the push, show whether chunks get slower
   as the server fills up.
2. Pull: the server holds a class's work (``--pull-learners 40 --pull-attempts 10
   --pull-answers 20``: 8,000 records, the morango harness's pull) and a fresh device pulls
   its class in its first sync. The server's replication entries are made beforehand (as
   morango's harness serializes the server's store beforehand; ``--pull-cold`` does not).
   The device must then hold the 8,000 answers.
3. Throttled: a week of one class's work (``--week-learners 40 --week-attempts 5
   --week-answers 10``: 2,000 records) pushed over a slow link (``bench/netlink.py``:
   ``--throttle-kbit`` 100 kbit/s each way, ``--throttle-delay-ms`` 250 ms added each way,
   a 500 ms round trip), the same link in front of morango (its harness's
   ``--throttle-kbit``/``--throttle-delay-ms``).
4. Resumption: a push of ``--cut-records`` (10,000) records cut by a proxy once 50% of the
   push's frame bytes have gone up, then run again to the end. Resent = bytes of chunk
   bodies that went up (counted by the proxies, across the runs) minus the session's frame
   bytes; compared with the session's mean chunk.

morango runs through ``bench/morango/run.py`` (its venv, ``bench/morango/setup.sh``; made
when missing) on the same record files, after Edu Vault. Targets, stated PASS/FAIL: fewer
bytes (up + down) than morango for the same records, push and pull; resumption resends
under one chunk; and the device's peak RSS flat from the smallest to the largest push (ratio
under 1.25).

    .venv/bin/python bench/offline.py [--counts 1000 10000 100000] [--database sqlite|postgres]
        [--skip-morango] [--throttle-only] [--scenarios push pull resume throttle]
        [--max-seconds 900] [--chunk-bytes N] [--part-bytes N] [--no-follow-up] [--keep]

Exit status 1 when a check fails (a count on the receiving side, a sync that did not end
as it should).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import DEFAULT_POSTGRES, ROOT, free_port, reachable, wait_http
from netlink import Link, paced_pump

HERE = Path(__file__).resolve().parent
MORANGO = HERE / "morango"
COURSE_KEY = "course-v1:BENCH+OFFLINE+2026_T1"
SUBTOPIC_BLOCK = "practice"
DEVICE_TIMEOUT = "300"  # the device's --timeout: a silent connection
PUSH_MARKER = b"PUT /api/v1/devices/"


def log(message: str) -> None:
    sys.stderr.write(f"[offline-bench] {message}\n")
    sys.stderr.flush()


def _morango_records():
    spec = importlib.util.spec_from_file_location("morango_records", MORANGO / "records.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- helpers run as `python bench/offline.py _<name> …` on a database (the env says which) -------


def question_index(question: str, questions: int, used: set[int]) -> int:
    """The bank question a record's ``exercise-E/qJ`` maps onto: distinct within an attempt."""
    try:
        exercise, q = question.split("/")
        index = (int(exercise.rsplit("-", 1)[1]) * 20 + int(q.lstrip("q"))) % questions
    except (ValueError, IndexError):
        import zlib

        index = zlib.crc32(question.encode()) % questions
    while index in used:
        index = (index + 1) % questions
    used.add(index)
    return index


def helper_load(path: str, limit: int, origin: str, questions: int) -> dict[str, Any]:
    """The first ``limit`` records of ``path`` as submitted attempts, responses and answers."""
    import django

    django.setup()
    from datetime import datetime, timedelta
    from uuid import UUID

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from eduvault.learning.assessments.models import Answer, Assessment, Attempt, Question, Response

    started = time.perf_counter()
    practice = Assessment.objects.get(kind=Assessment.Kind.PRACTICE)
    by_key = {q.key: q for q in Question.objects.filter(course_id=practice.course_id, current=True)}
    bank = [by_key[f"q-{i}"] for i in range(questions)]
    users = dict(get_user_model().objects.values_list("username", "pk"))
    groups: dict[str, list[dict[str, Any]]] = {}
    with open(path) as f:
        for line in itertools.islice(f, limit):
            record = json.loads(line)
            groups.setdefault(record["attempt"], []).append(record)
    numbers: dict[int, int] = {}
    attempts, responses, answers = [], [], []

    def when(value: Any) -> datetime:
        return datetime.fromtimestamp(value).astimezone() if isinstance(value, (int, float)) else datetime.fromisoformat(value)

    for attempt_id, records in groups.items():
        if len(records) > questions:
            raise SystemExit(f"attempt {attempt_id} has {len(records)} answers, more than the {questions} questions")
        learner = users[records[0]["learner"]]
        numbers[learner] = numbers.get(learner, 0) + 1
        times = [when(r["created"]) for r in records]
        score = sum(float(r["score"]) for r in records)
        attempt = Attempt(
            id=UUID(attempt_id), assessment=practice, learner_id=learner, number=numbers[learner],
            seed=attempt_id.replace("-", "")[:16], status=Attempt.Status.SUBMITTED,
            started_at=min(times) - timedelta(minutes=1), submitted_at=max(times) + timedelta(seconds=5),
            closed_by=Attempt.ClosedBy.LEARNER, score=score, max_score=float(len(records)),
            passed=score / len(records) >= practice.passing_threshold, origin=origin, flags=[],
        )
        attempts.append(attempt)
        used: set[int] = set()
        for position, (record, at) in enumerate(zip(records, times, strict=True)):
            question = bank[question_index(record["question"], questions, used)]
            value = record["answer"]
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            correct, points = bool(record["correct"]), float(record["score"])
            responses.append(
                Response(
                    attempt=attempt, question=question, position=position, tries=1,
                    wrong_tries=0 if correct else 1, answer=value, score=points, correct=correct, done=correct,
                )
            )
            answers.append(
                Answer(
                    attempt=attempt, client_id=record.get("id") or f"{attempt_id}-{position}", question=question,
                    try_number=1, answer=value, score=points, raw_score=points, correct=correct, result={},
                    created_at=at,
                )
            )
    with transaction.atomic():
        Attempt.objects.bulk_create(attempts, batch_size=1000)
        Response.objects.bulk_create(responses, batch_size=2000)
        Answer.objects.bulk_create(answers, batch_size=2000)
    return {"attempts": len(attempts), "answers": len(answers), "seconds": round(time.perf_counter() - started, 2)}


def helper_refresh() -> dict[str, Any]:
    """The server's replication entries for everything it holds (what a sync would make)."""
    import django

    django.setup()
    from eduvault.learning.devices import kinds, store

    started = time.perf_counter()
    # What the server sends down (DOWN), or every kind in a version without that list.
    changed = store.refresh(scope=store.everything(), kind_names=getattr(kinds, "DOWN", kinds.ORDER))
    return {"changed": changed, "seconds": round(time.perf_counter() - started, 2)}


def _session_data(s: Any) -> dict[str, Any]:
    return {
        "id": str(s.id), "direction": s.direction, "state": s.state, "chunks": s.chunks, "records": s.records,
        "bytes": s.bytes, "next_seq": s.next_seq, "applied_records": s.applied_records, "wire_bytes": s.wire_bytes,
        "partial": len(bytes(s.partial)),
    }


def helper_server(device: str) -> dict[str, Any]:
    """What the server holds from ``device``: its answers and attempts, its push sessions."""
    import django

    django.setup()
    from eduvault.learning.assessments.models import Answer, Attempt
    from eduvault.learning.devices.models import Device, TransferSession

    row = Device.objects.get(name=device)
    return {
        "replica": row.replica,
        "answers": Answer.objects.filter(attempt__origin=row.replica).count(),
        "attempts": Attempt.objects.filter(origin=row.replica).count(),
        "answers_all": Answer.objects.count(),
        "sessions": [
            _session_data(s)
            for s in TransferSession.objects.filter(device=row).order_by("started_at")
        ],
    }


def helper_device() -> dict[str, Any]:
    """What a device holds: answers, attempts, and its last session each way."""
    import django

    django.setup()
    from eduvault.learning.assessments.models import Answer, Attempt
    from eduvault.learning.devices.models import Entry, TransferChunk, TransferSession

    out: dict[str, Any] = {
        "answers": Answer.objects.count(),
        "attempts": Attempt.objects.count(),
        "entries": Entry.objects.count(),
    }
    for direction in ("pull", "push"):
        s = TransferSession.objects.filter(direction=direction, device=None).order_by("-started_at").first()
        out[direction] = _session_data(s) if s else None
        if s is not None and direction == "push":
            frames = TransferChunk.objects.filter(session=s).order_by("seq").values_list("seq", "frame")
            out["push_frames"] = [len(bytes(frame)) for _, frame in frames]
    return out


def helper_via(url: str) -> dict[str, Any]:
    """Point the device's pairing at another address (a proxy in front of the same server)."""
    import django

    django.setup()
    from eduvault.learning.devices.models import Pairing

    return {"updated": Pairing.objects.update(server_url=url)}


HELPERS = {
    "_load": lambda a: helper_load(a[0], int(a[1]), a[2], int(a[3])),
    "_refresh": lambda a: helper_refresh(),
    "_server": lambda a: helper_server(a[0]),
    "_device": lambda a: helper_device(),
    "_via": lambda a: helper_via(a[0]),
}


# -- the proxy: counts, cuts, or throttles ------------------------------------------------------


class _ChunkBodies:
    """Follows the HTTP/1.1 requests in a client's byte stream and counts the body bytes of
    ``PUT …/chunks/…`` (a push's frames) that went through."""

    def __init__(self, heads: list[float] | None = None) -> None:
        self.head = b""
        self.body_left = 0
        self.counting = False
        #: When each PUT of a chunk began going up.
        self.heads = heads if heads is not None else []

    def feed(self, data: bytes) -> int:
        counted, i = 0, 0
        while i < len(data):
            if self.body_left:
                take = min(self.body_left, len(data) - i)
                if self.counting:
                    counted += take
                self.body_left -= take
                i += take
                continue
            before = len(self.head)
            self.head += data[i:]
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return counted
            header, self.head = self.head[:end], b""
            i += end + 4 - before
            lines = header.split(b"\r\n")
            parts = lines[0].split(b" ")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            self.body_left = length
            self.counting = len(parts) > 1 and parts[0] == b"PUT" and b"/chunks/" in parts[1]
            if self.counting:
                self.heads.append(time.monotonic())
        return counted


class Proxy:
    """A TCP proxy on loopback in front of the server: counts the bytes each way (and the
    push's chunk bodies going up); ``link=(bytes/s, one-way delay)`` makes it a slow link;
    ``cut_after=N`` closes the connection once N bytes went up after ``marker``."""

    def __init__(self, target_port: int, *, link: tuple[float, float] | None = None,
                 cut_after: int | None = None, marker: bytes = b"") -> None:
        self.target = target_port
        self.lock = threading.Lock()
        self.up = self.down = self.chunk_bodies_up = self.connections = 0
        self.put_times: list[float] = []
        self.links = {d: Link(*link) for d in ("up", "down")} if link else None
        self.cut_after = cut_after
        self.marker = marker
        self.cut_counting = not marker
        self.cut_counted = 0
        self.cut = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {"up": self.up, "down": self.down, "chunk_bodies_up": self.chunk_bodies_up, "connections": self.connections}

    def close(self) -> None:
        self.sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
            bodies = _ChunkBodies(self.put_times)
            threading.Thread(target=self._pump, args=(client, upstream, "up", bodies), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, "down", bodies), daemon=True).start()

    def _count(self, direction: str, data: bytes, bodies: _ChunkBodies) -> None:
        with self.lock:
            if direction == "up":
                self.up += len(data)
                self.chunk_bodies_up += bodies.feed(data)
            else:
                self.down += len(data)

    def _cutting(self, data: bytes) -> tuple[bytes, bool]:
        """What of ``data`` (going up) passes before the cut, and whether to cut now."""
        with self.lock:
            if self.cut_after is None or self.cut:
                return data, False
            head = b""
            if not self.cut_counting:
                at = data.find(self.marker)
                if at < 0:
                    return data, False
                self.cut_counting = True
                head, data = data[:at], data[at:]
            room = self.cut_after - self.cut_counted
            if len(data) >= room:
                self.cut_counted += room
                self.cut = True
                return head + data[:room], True
            self.cut_counted += len(data)
            return head + data, False

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str, bodies: _ChunkBodies) -> None:
        if self.links is not None:
            paced_pump(src, dst, self.links[direction], on_bytes=lambda data: self._count(direction, data, bodies))
            return
        try:
            while True:
                data = src.recv(262144)
                if not data:
                    break
                cut = False
                if direction == "up":
                    data, cut = self._cutting(data)
                self._count(direction, data, bodies)
                if data:
                    dst.sendall(data)
                if cut:
                    break
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    s.close()
                except OSError:
                    pass


# -- processes ---------------------------------------------------------------------------------


def proc_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process (all its threads) so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def mb(kb: int | None) -> float | None:
    return round(kb / 1024, 1) if kb else None


def helper_call(env: dict[str, str], name: str, *argv: Any, timeout: float = 900) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), name, *map(str, argv)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{name} {argv} failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measured(cmd: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run ``cmd``; its exit code, output, wall time and peak RSS (``ru_maxrss`` of wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=err, start_new_session=True)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "rc": proc.returncode, "stdout": out.read().decode(errors="replace"),
            "stderr": err.read().decode(errors="replace"), "wall": wall, "peak_rss_kb": usage.ru_maxrss,
            "timed_out": timed_out, "cpu": usage.ru_utime + usage.ru_stime,
        }


class Server:
    """``eduvault serve`` (one process) on a fresh copy of the template database."""

    def __init__(self, bench: Bench, tag: str) -> None:
        self.bench = bench
        self.url_db = bench.scenario_database(tag)
        self.env = bench.server_env(self.url_db)
        self.port = free_port()
        self.log = open(bench.work / f"serve-{tag}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "eduvault", "serve", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            wait_http(f"http://127.0.0.1:{self.port}/healthz", timeout=60)
        except BaseException:
            self.stop()
            raise

    def helper(self, name: str, *argv: Any) -> dict[str, Any]:
        return helper_call(self.env, name, *argv)

    def add_device(self, name: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "eduvault", "device", "add", name, "--course", COURSE_KEY],
            capture_output=True, text=True, env=self.env, cwd=ROOT, timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"device add failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout.split()[-1]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        self.bench.drop_scenario_database(self.url_db)


class Device:
    """A device: an Edu Vault of its own (data directory, embedded SQLite)."""

    def __init__(self, bench: Bench, name: str) -> None:
        self.name = name
        self.dir = bench.work / "devices" / name
        self.dir.mkdir(parents=True)
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "EDUVAULT_BROKER_URL")}
        self.env.update(
            EDUVAULT_DATA_DIR=str(self.dir), EDUVAULT_AUTO_MIGRATE="1", EDUVAULT_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="eduvault.config.settings", **bench.device_settings,
        )

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "eduvault", *args], capture_output=True, text=True, env=self.env, cwd=ROOT,
            timeout=timeout,
        )

    def helper(self, name: str, *argv: Any) -> dict[str, Any]:
        return helper_call(self.env, name, *argv)

    def join(self, url: str, code: str) -> None:
        result = self.cli("device", "join", url, code)
        if result.returncode != 0:
            raise RuntimeError(f"device join failed:\n{result.stdout}\n{result.stderr}")

    def sync(self, timeout: float) -> dict[str, Any]:
        run = measured(
            [sys.executable, "-m", "eduvault", "device", "sync", "--json", "--timeout", DEVICE_TIMEOUT],
            self.env, timeout,
        )
        run["json"] = None
        if run["rc"] == 0:
            text = run["stdout"]
            run["json"] = json.loads(text[text.index("{") :])
        return run


# -- the benchmark ---------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="eduvault-offline-"))
        self.server_dir = self.work / "server"
        self.server_dir.mkdir()
        self.template = ""
        self.failures: list[str] = []
        self.device_settings: dict[str, str] = {}
        if args.chunk_bytes:
            self.device_settings["EDUVAULT_DEVICE_CHUNK_BYTES"] = str(args.chunk_bytes)
        if args.part_bytes:
            self.device_settings["EDUVAULT_DEVICE_PART_BYTES"] = str(args.part_bytes)
        self.devices = 0
        self.class_pull: dict[str, Any] | None = None

    # -- the server's database ----------------------------------------------------------------

    def build_template(self) -> None:
        """The server's template: a course, its bank, its practice assessment, the learners."""
        started = time.perf_counter()
        os.environ["EDUVAULT_DATA_DIR"] = str(self.server_dir)
        os.environ["EDUVAULT_AUTO_MIGRATE"] = "0"
        os.environ["EDUVAULT_LOG_LEVEL"] = "ERROR"
        if self.args.database == "postgres":
            if not reachable(self.args.postgres):
                raise SystemExit(f"PostgreSQL is not reachable at {self.args.postgres}")
            from common import scratch_database

            self.template = f"bench_offline_{os.getpid()}"
            url = scratch_database(self.args.postgres, self.template)
        else:
            url = f"sqlite:///{self.server_dir / 'template.sqlite3'}"
        from common import django_on

        django_on(url, EDUVAULT_LOG_LEVEL="ERROR")
        seed_class(self.args.questions, self.learners())
        from django.db import connection, connections

        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connections.close_all()
        if hasattr(connections["default"], "close_pool"):
            connections["default"].close_pool()
        log(f"server template ready in {time.perf_counter() - started:.1f} s ({self.args.database})")

    def learners(self) -> int:
        a = self.args
        return max(a.learners, a.pull_learners, a.week_learners)

    def scenario_database(self, tag: str) -> str:
        if self.args.database == "postgres":
            import psycopg
            from urllib.parse import urlsplit, urlunsplit

            name = f"{self.template}_{tag.replace('-', '_')}"
            admin = psycopg.connect(self.args.postgres, autocommit=True)
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {name} TEMPLATE {self.template}")
            admin.close()
            return urlunsplit(urlsplit(self.args.postgres)._replace(path=f"/{name}"))
        path = self.server_dir / f"{tag}.sqlite3"
        shutil.copyfile(self.server_dir / "template.sqlite3", path)
        return f"sqlite:///{path}"

    def drop_scenario_database(self, url: str) -> None:
        if self.args.keep:
            return
        if url.startswith("sqlite:///"):
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
            return
        import psycopg

        admin = psycopg.connect(self.args.postgres, autocommit=True)
        admin.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
        admin.close()

    def server_env(self, database_url: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "EDUVAULT_BROKER_URL"}
        env.update(
            DATABASE_URL=database_url, EDUVAULT_DATA_DIR=str(self.server_dir), EDUVAULT_AUTO_MIGRATE="0",
            EDUVAULT_LOG_LEVEL="WARNING", EDUVAULT_RECONCILE_SECONDS="0",
            DJANGO_SETTINGS_MODULE="eduvault.config.settings", **self.device_settings,
        )
        return env

    def cleanup(self) -> None:
        if self.template and not self.args.keep:
            import psycopg

            admin = psycopg.connect(self.args.postgres, autocommit=True)
            admin.execute(f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)")
            admin.close()
        if self.args.keep:
            log(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # -- records ------------------------------------------------------------------------------

    def write_records(self) -> None:
        gen = _morango_records().generate
        a = self.args
        self.files: dict[str, Path] = {}

        def write(name: str, records: Any) -> Path:
            path = self.work / f"{name}.jsonl"
            with open(path, "w") as f:
                for r in records:
                    f.write(json.dumps(r, separators=(",", ":")) + "\n")
            self.files[name] = path
            return path

        pushes = [n for n in a.counts] + ([a.cut_records] if "resume" in a.scenarios else [])
        if pushes and ("push" in a.scenarios or "resume" in a.scenarios):
            write("push", gen(max(pushes), learners=a.learners, answers_per_attempt=20, seed=1))
        n = a.pull_learners * a.pull_attempts * a.pull_answers
        write("pull", gen(n, learners=a.pull_learners, answers_per_attempt=a.pull_answers, seed=2))
        n = a.week_learners * a.week_attempts * a.week_answers
        write("week", gen(n, learners=a.week_learners, answers_per_attempt=a.week_answers, seed=3))

    # -- a paired device ----------------------------------------------------------------------

    def paired(self, server: Server, proxy: Proxy) -> Device:
        self.devices += 1
        device = Device(self, f"tablet-{self.devices}")
        device.join(proxy.url, server.add_device(device.name))
        before = proxy.snapshot()
        first = device.sync(self.args.max_seconds)
        after = proxy.snapshot()
        if first["rc"] != 0:
            raise RuntimeError(f"the device's first sync failed ({first['rc']}):\n{first['stderr'][-3000:]}")
        self.class_pull = {
            "records": first["json"]["pull"]["records"], "seconds": first["json"]["seconds"],
            "bytes_up": after["up"] - before["up"], "bytes_down": after["down"] - before["down"],
        }
        return device

    def timed_sync(self, device: Device, server: Server, proxy: Proxy) -> dict[str, Any]:
        before = proxy.snapshot()
        puts_before = len(proxy.put_times)
        rss_before = proc_kb(server.proc.pid, "VmRSS")
        reset = reset_peak(server.proc.pid)
        server_cpu = cpu_seconds(server.proc.pid)
        run = device.sync(self.args.max_seconds)
        after = proxy.snapshot()
        server_cpu_after = cpu_seconds(server.proc.pid)
        out = {
            "status": "ok" if run["rc"] == 0 else ("timeout" if run["timed_out"] else f"exit {run['rc']}"),
            "seconds": run["json"]["seconds"] if run["json"] else None,
            "wall_seconds": round(run["wall"], 2),
            "bytes_up": after["up"] - before["up"],
            "bytes_down": after["down"] - before["down"],
            "chunk_bodies_up": after["chunk_bodies_up"] - before["chunk_bodies_up"],
            "http_connections": after["connections"] - before["connections"],
            "device_peak_rss_mb": mb(run["peak_rss_kb"]),
            "server_peak_rss_mb": mb(proc_kb(server.proc.pid, "VmHWM")),
            "server_rss_before_mb": mb(rss_before),
            "server_peak_reset": reset,
            "device_cpu_s": round(run["cpu"], 2),
            "server_cpu_s": round(server_cpu_after - server_cpu, 2) if server_cpu is not None and server_cpu_after else None,
        }
        puts = proxy.put_times[puts_before:]
        gaps = [b - a for a, b in zip(puts, puts[1:])]
        if len(gaps) >= 10:
            # Seconds from one chunk's PUT to the next (the server applies a chunk before it
            # answers): the mean of each tenth of the push, to see whether chunks get slower.
            tenth = len(gaps) / 10
            out["chunk_seconds_by_tenth"] = [
                round(sum(gaps[int(i * tenth) : int((i + 1) * tenth)]) / len(gaps[int(i * tenth) : int((i + 1) * tenth)]), 3)
                for i in range(10)
            ]
        if run["json"]:
            out["pull"] = run["json"]["pull"]
            out["push"] = run["json"]["push"]
        elif run["rc"] != 0:
            out["stderr"] = run["stderr"][-1500:]
        return out

    def follow_up(self, device: Device, server: Server, proxy: Proxy) -> dict[str, Any]:
        """The sync after: with nothing new on the device, what comes down (the server's
        grades and masteries of the pushed work) and whether anything goes up again."""
        before = proxy.snapshot()
        run = device.sync(self.args.max_seconds)
        after = proxy.snapshot()
        if run["rc"] != 0:
            self.failures.append(f"the sync after a push exited {run['rc']}")
            return {"status": f"exit {run['rc']}"}
        j = run["json"]
        out = {
            "status": "ok", "seconds": j["seconds"], "pull_records": j["pull"]["records"],
            "push_records": j["push"]["records"], "bytes_up": after["up"] - before["up"],
            "bytes_down": after["down"] - before["down"],
        }
        if j["push"]["records"]:
            # Nothing was done on the device since the push: whatever goes up again is an echo.
            self.failures.append(f"the sync after a push sent {j['push']['records']} records up again")
            out["status"] = "echo"
        return out

    # -- scenarios ----------------------------------------------------------------------------

    def push(self, n: int) -> dict[str, Any]:
        log(f"push {n:,}: server, device, pairing, the class's pull")
        server = Server(self, f"push{n}")
        proxy = Proxy(server.port)
        try:
            device = self.paired(server, proxy)
            loaded = device.helper("_load", self.files["push"], n, "", self.args.questions)
            log(f"push {n:,}: {loaded['answers']:,} answers in {loaded['attempts']:,} attempts put on the device "
                f"in {loaded['seconds']} s; syncing")
            out = self.timed_sync(device, server, proxy)
            held = server.helper("_server", device.name)
            out.update(load=loaded, server_answers_after=held["answers"], server_attempts_after=held["attempts"])
            if out["status"] == "ok" and (held["answers"] != n or out["push"]["records"] != n + loaded["attempts"]):
                out["status"] = "mismatch"
            if out["status"] == "ok" and not self.args.no_follow_up:
                out["next_sync"] = self.follow_up(device, server, proxy)
            if out["status"] != "ok":
                applied = sum(s["applied_records"] for s in held["sessions"] if s["direction"] == "push")
                out["server_applied_records"] = applied
                self.failures.append(f"push {n}: {out['status']} (server holds {held['answers']} answers of {n})")
        finally:
            proxy.close()
            server.stop()
        out.update(scenario="push", records=n)
        if out.get("seconds"):
            out["records_per_s"] = round(n / out["seconds"], 1)
        log(f"push {n:,}: {out['status']} in {out.get('seconds')} s")
        return out

    def pull(self) -> dict[str, Any]:
        a = self.args
        n = a.pull_learners * a.pull_attempts * a.pull_answers
        log(f"pull: {n:,} records put on the server")
        server = Server(self, "pull")
        proxy = Proxy(server.port)
        try:
            loaded = server.helper("_load", self.files["pull"], n, "", a.questions)
            refreshed = None if a.pull_cold else server.helper("_refresh")
            self.devices += 1
            device = Device(self, f"tablet-{self.devices}")
            device.join(proxy.url, server.add_device(device.name))
            log("pull: a fresh device pulls its class")
            out = self.timed_sync(device, server, proxy)
            held = device.helper("_device")
            out.update(load=loaded, server_refresh=refreshed, device_answers_after=held["answers"],
                       device_attempts_after=held["attempts"])
            if out["status"] == "ok" and (held["answers"] != n or held["attempts"] != loaded["attempts"]):
                out["status"] = "mismatch"
            if out["status"] != "ok":
                self.failures.append(f"pull: {out['status']} (the device holds {held['answers']} answers of {n})")
        finally:
            proxy.close()
            server.stop()
        out.update(scenario="pull", records=n, learners=a.pull_learners)
        if out.get("seconds"):
            out["records_per_s"] = round(n / out["seconds"], 1)
        if self.class_pull:
            out["class_content_bytes_down"] = self.class_pull["bytes_down"]
        log(f"pull: {out['status']} in {out.get('seconds')} s")
        return out

    def throttled(self) -> dict[str, Any]:
        a = self.args
        n = a.week_learners * a.week_attempts * a.week_answers
        log(f"throttled: a week's {n:,} records over {a.throttle_kbit:g} kbit/s, {a.throttle_delay_ms:g} ms each way")
        server = Server(self, "week")
        proxy = Proxy(server.port)
        slow = Proxy(server.port, link=(a.throttle_kbit * 1000 / 8, a.throttle_delay_ms / 1000))
        try:
            device = self.paired(server, proxy)
            loaded = device.helper("_load", self.files["week"], n, "", a.questions)
            device.helper("_via", slow.url)
            out = self.timed_sync(device, server, slow)
            held = server.helper("_server", device.name)
            out.update(load=loaded, server_answers_after=held["answers"])
            if out["status"] == "ok" and held["answers"] != n:
                out["status"] = "mismatch"
            if out["status"] != "ok":
                self.failures.append(f"throttled: {out['status']} (server holds {held['answers']} answers of {n})")
        finally:
            proxy.close()
            slow.close()
            server.stop()
        out.update(scenario="throttled", records=n, throttle_kbit=a.throttle_kbit, throttle_delay_ms=a.throttle_delay_ms)
        if out.get("seconds"):
            out["records_per_s"] = round(n / out["seconds"], 1)
        log(f"throttled: {out['status']} in {out.get('seconds')} s (wall {out['wall_seconds']} s)")
        return out

    def resume(self) -> dict[str, Any]:
        a = self.args
        n = a.cut_records
        log(f"resume: a push of {n:,} records cut at 50%")
        server = Server(self, "cut")
        proxy = Proxy(server.port)
        proxies = [proxy]
        out: dict[str, Any] = {"scenario": "resume", "records": n, "cut_at": 0.5}
        try:
            device = self.paired(server, proxy)
            device.helper("_load", self.files["push"], n, "", a.questions)
            # 1. Cut as the first part goes up: the push session is open and framed.
            first = Proxy(server.port, cut_after=0, marker=PUSH_MARKER)
            proxies.append(first)
            device.helper("_via", first.url)
            run = device.sync(a.max_seconds)
            if run["rc"] != 4:
                raise RuntimeError(f"the first cut run exited {run['rc']}, not 4:\n{run['stderr'][-2000:]}")
            framed = device.helper("_device")
            session, frames = framed["push"], framed.get("push_frames") or []
            # 2. Cut once half the frames' bytes went up (headers of the parts counted too).
            half = Proxy(server.port, cut_after=int(session["bytes"] * 0.5), marker=PUSH_MARKER)
            proxies.append(half)
            device.helper("_via", half.url)
            run = device.sync(a.max_seconds)
            cut_rc = run["rc"]
            at_cut = device.helper("_device")["push"]
            remote_at_cut = [s for s in server.helper("_server", device.name)["sessions"] if s["id"] == session["id"]]
            # 3. Again, to the end.
            device.helper("_via", proxy.url)
            out.update(self.timed_sync(device, server, proxy))
            held = server.helper("_server", device.name)
            remote = next(s for s in held["sessions"] if s["id"] == session["id"])
            bodies = sum(p.snapshot()["chunk_bodies_up"] for p in proxies)
            # The first sync (the class) sent no chunk up; everything counted is this push's.
            chunk = session["bytes"] / max(1, session["chunks"])
            resent = bodies - session["bytes"]
            in_flight = remote_at_cut[0]["next_seq"] if remote_at_cut else None
            out.update(
                chunk_in_flight_bytes=frames[in_flight] if in_flight is not None and in_flight < len(frames) else None,
                largest_chunk_bytes=max(frames) if frames else None,
                cut_run_exit=cut_rc,
                session_frame_bytes=session["bytes"],
                session_chunks=session["chunks"],
                mean_chunk_bytes=round(chunk),
                part_bytes=int(a.part_bytes or 65536),
                acknowledged_at_cut={"next_seq": remote_at_cut[0]["next_seq"] if remote_at_cut else None,
                                     "offset": remote_at_cut[0]["partial"] if remote_at_cut else None},
                device_session_at_cut={"state": at_cut["state"]},
                chunk_bodies_sent=bodies,
                resent_bytes=resent,
                server_wire_bytes=remote["wire_bytes"],
                server_wire_minus_frames=remote["wire_bytes"] - session["bytes"],
                device_reported_resent=(out.get("push") or {}).get("resent"),
                resent_vs_chunk=round(resent / chunk, 3) if chunk else None,
                server_answers_after=held["answers"],
            )
            if out["status"] == "ok" and (held["answers"] != n or remote["state"] != "done"):
                out["status"] = "mismatch"
            if cut_rc != 4:
                out["status"] = f"cut run exit {cut_rc}"
            if out["status"] != "ok":
                self.failures.append(f"resume: {out['status']} (server holds {held['answers']} answers of {n})")
        finally:
            for p in proxies:
                p.close()
            server.stop()
        log(f"resume: {out['status']}, resent {out.get('resent_bytes')} bytes (mean chunk {out.get('mean_chunk_bytes')})")
        return out

    # -- morango ------------------------------------------------------------------------------

    def morango(self, *argv: str) -> list[dict[str, Any]]:
        python = Path(os.environ.get("MORANGO_VENV", "/tmp/morango-venv")) / "bin" / "python"
        if not python.exists():
            log("morango's venv is missing: running bench/morango/setup.sh")
            subprocess.run([str(MORANGO / "setup.sh")], check=True, cwd=ROOT)
        cmd = [str(python), str(MORANGO / "run.py"), *argv]
        log("morango: " + " ".join(cmd[1:]))
        result = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        if result.returncode != 0:
            self.failures.append(f"morango run.py exited {result.returncode}")
        return lines


# -- the server's class ------------------------------------------------------------------------


def seed_class(questions: int, learners: int) -> None:
    from eduvault.identity.services import user_create
    from eduvault.integrations.openedx.simulator.course import SimulatedCourse
    from eduvault.learning.assessments.models import Assessment
    from eduvault.learning.assessments.services import questions_import
    from eduvault.pipeline.content.models import Course
    from eduvault.pipeline.records.enrollments import enrollment_add
    from eduvault.pipeline.sync.services import course_sync_blocks

    org, number, run = COURSE_KEY.removeprefix("course-v1:").split("+")
    sim = SimulatedCourse(org, number, run, "Offline Mathematics", start="2026-01-05T07:30:00Z")
    chapter = sim.add(sim.root, "chapter", "Algebra", block_id="algebra")
    seq = sim.add(chapter, "sequential", "Practice", block_id=SUBTOPIC_BLOCK)
    for u in range(3):
        unit = sim.add(seq, "vertical", f"Unit {u + 1}", block_id=f"unit{u}")
        sim.add(unit, "problem", f"Problem {u + 1}", block_id=f"problem{u}", weight=1.0)
    course_sync_blocks(course_key=sim.course_key, blocks=sim.blocks_response())
    course = Course.objects.get(key=COURSE_KEY)
    documents = []
    for i in range(questions):
        if i % 2 == 0:
            documents.append({
                "id": f"q-{i}", "type": "single_choice", "prompt": f"Question {i}: pick b.",
                "choices": [{"id": c, "text": f"Option {c}", "correct": c == "b", "feedback": f"you chose {c}"} for c in "abcd"],
                "hints": ["First hint.", "Second hint."], "explanation": "The answer is b.",
            })
        else:
            documents.append({
                "id": f"q-{i}", "type": "numeric", "prompt": f"Question {i}: how much?", "answer": 12.5,
                "absolute_tolerance": 0.1, "explanation": "Work it out.",
            })
    report = questions_import(course=course, subtopic=seq, documents=documents, actor="bench")
    assert not report.invalid, report.as_dict()
    assert Assessment.objects.filter(kind=Assessment.Kind.PRACTICE).count() == 1
    for i in range(learners):
        name = f"learner{i:04d}"
        user_create(username=name, role="learner", password=None, origin="api")
        enrollment_add(course=course, username=name, actor="bench")


# -- output --------------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def _fmt(value: Any, spec: str = ",") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and spec == ",":
        return f"{value:,.1f}"
    return format(value, spec)


def report(bench: Bench, results: list[dict[str, Any]], morango: dict[tuple[str, int], dict[str, Any]]) -> list[dict[str, Any]]:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=200)
    table = Table(title="Offline device sync: Edu Vault vs morango (same records, same run)", header_style="bold")
    for column in ("scenario", "records", "engine", "status", "seconds", "records/s", "bytes up", "bytes down",
                   "device peak RSS", "server peak RSS", "r/s ×", "bytes ×"):
        table.add_column(column, justify="left" if column in ("scenario", "engine", "status") else "right")
    lines = []
    for r in results:
        m = morango.get((r["scenario"], r["records"]))
        ev_bytes = (r.get("bytes_up") or 0) + (r.get("bytes_down") or 0)
        line: dict[str, Any] = {"scenario": r["scenario"], "records": r["records"], "eduvault": r, "morango": m}
        if m:
            m_bytes = (m.get("bytes_up") or 0) + (m.get("bytes_down") or 0)
            line["ratios"] = {
                "records_per_s": _ratio(r.get("records_per_s"), m.get("records_per_s")),
                "bytes": _ratio(ev_bytes, m_bytes),
                "seconds": _ratio(r.get("seconds"), m.get("seconds")),
                "device_peak_rss": _ratio(r.get("device_peak_rss_mb"), m.get("client_peak_rss_mb")),
                "server_peak_rss": _ratio(r.get("server_peak_rss_mb"), m.get("server_peak_rss_mb")),
            }
        label = r["scenario"] + (" (cut 50%, rerun)" if r["scenario"] == "resume" else "")
        ratios = line.get("ratios") or {}
        table.add_row(
            label, f"{r['records']:,}", "Edu Vault", r["status"], _fmt(r.get("seconds"), ".2f"),
            _fmt(r.get("records_per_s")), _fmt(r.get("bytes_up")), _fmt(r.get("bytes_down")),
            _fmt(r.get("device_peak_rss_mb"), ".1f") + " MB", _fmt(r.get("server_peak_rss_mb"), ".1f") + " MB",
            _fmt(ratios.get("records_per_s"), ".2f"), _fmt(ratios.get("bytes"), ".3f"),
        )
        if m:
            table.add_row(
                "", "", "morango", m.get("status", "?"), _fmt(m.get("seconds"), ".2f"), _fmt(m.get("records_per_s")),
                _fmt(m.get("bytes_up")), _fmt(m.get("bytes_down")), _fmt(m.get("client_peak_rss_mb"), ".1f") + " MB",
                _fmt(m.get("server_peak_rss_mb"), ".1f") + " MB", "1", "1",
            )
        lines.append(line)
    console.print(table)
    console.print(
        "seconds: the sync inside `eduvault device sync` (its JSON; process start and Django setup not "
        "counted, as morango's window leaves out its process and certificate setup); r/s × and bytes × "
        "are Edu Vault / morango (r/s above 1 and bytes below 1 favour Edu Vault); bytes are TCP payload "
        "(HTTP headers and bodies) both ways through the counting proxy."
    )
    details = Table(title="Edu Vault details", header_style="bold")
    for column in ("scenario", "records", "wall s", "device CPU s", "server CPU s", "pull records", "pull bytes",
                   "push records", "push chunks", "push bytes", "resent", "next sync: s / down / up / records ↓ / ↑"):
        details.add_column(column, justify="left" if column == "scenario" else "right")
    for r in results:
        pull, push, nxt = r.get("pull") or {}, r.get("push") or {}, r.get("next_sync")
        details.add_row(
            r["scenario"], f"{r['records']:,}", _fmt(r.get("wall_seconds"), ".2f"), _fmt(r.get("device_cpu_s"), ".1f"),
            _fmt(r.get("server_cpu_s"), ".1f"), _fmt(pull.get("records")), _fmt(pull.get("bytes")),
            _fmt(push.get("records")), _fmt(push.get("chunks")), _fmt(push.get("bytes")), _fmt(push.get("resent")),
            (f"{nxt['seconds']:.2f} / {nxt['bytes_down']:,} / {nxt['bytes_up']:,} / {nxt['pull_records']:,} / "
             f"{nxt['push_records']:,}" if nxt and nxt.get("status") in ("ok", "echo") else (nxt or {}).get("status", "—")),
        )
    console.print(details)
    console.print(
        "pull/push: the timed sync's two legs from its JSON (bytes = frame bytes of chunks); next sync: the sync "
        "after a push with nothing new on the device (what the server sends back: grades, masteries; anything "
        "going up again would be an echo)."
    )
    if bench.class_pull:
        c = bench.class_pull
        console.print(
            f"a device's first sync of the class without work (course, {bench.args.questions} questions, "
            f"assessment, accounts, enrollments): {c['records']:,} records, {c['bytes_down']:,} bytes down, "
            f"{c['bytes_up']:,} up, {c['seconds']:.2f} s"
        )
    for r in results:
        if r.get("chunk_seconds_by_tenth"):
            console.print(
                f"{r['scenario']} {r['records']:,}: seconds per chunk, by tenth of the push ({(r.get('push') or {}).get('chunks')} "
                f"chunks; attempts first, then answers): {' '.join(f'{x:.2f}' for x in r['chunk_seconds_by_tenth'])}"
            )
        if r["scenario"] == "resume" and "resent_bytes" in r:
            console.print(
                f"resumption: push of {r['session_frame_bytes']:,} frame bytes in {r['session_chunks']} chunks "
                f"(mean {r['mean_chunk_bytes']:,} B, largest {_fmt(r.get('largest_chunk_bytes'))} B; parts of "
                f"{r['part_bytes']:,} B); cut at 50% (the server had "
                f"acknowledged chunks 0–{(r['acknowledged_at_cut']['next_seq'] or 0) - 1} + {r['acknowledged_at_cut']['offset']} B "
                f"of chunk {r['acknowledged_at_cut']['next_seq']}, {_fmt(r.get('chunk_in_flight_bytes'))} B); "
                f"chunk bodies sent over all runs {r['chunk_bodies_sent']:,} → resent {r['resent_bytes']:,} B "
                f"({r['resent_vs_chunk']} of a chunk); server wire_bytes − frames = {r['server_wire_minus_frames']:,}; "
                f"device's own resent count {r['device_reported_resent']}"
            )
        if r["scenario"] == "pull" and r.get("class_content_bytes_down") and r.get("bytes_down"):
            console.print(
                f"pull: {r['bytes_down']:,} bytes down of which ≈{r['class_content_bytes_down']:,} are the class itself "
                f"(what a device pulls with no work on the server): ≈{r['bytes_down'] - r['class_content_bytes_down']:,} "
                f"for the {r['records']:,} answers and their attempts"
            )
    # Targets.
    targets = []
    for line in lines:
        r, m = line["eduvault"], line["morango"]
        if line["scenario"] in ("push", "pull"):
            ours = (r.get("bytes_up") or 0) + (r.get("bytes_down") or 0)
            if m and r["status"] == "ok" and m.get("status") == "ok":
                theirs = (m.get("bytes_up") or 0) + (m.get("bytes_down") or 0)
                verdict = "PASS" if ours < theirs else "FAIL"
                text = f"{ours:,} vs {theirs:,} bytes (×{ours / theirs:.3f})"
            else:
                verdict, text = "n/a", "no morango figure" if not m else f"status {r['status']} / {m.get('status')}"
            targets.append((f"fewer bytes than morango: {line['scenario']} {line['records']:,}", verdict, text))
            line["targets"] = {"fewer_bytes_than_morango": verdict}
        if line["scenario"] == "resume" and "resent_bytes" in r:
            chunk = min(c for c in (r["mean_chunk_bytes"], r.get("chunk_in_flight_bytes")) if c)
            verdict = "PASS" if r["status"] == "ok" and 0 <= r["resent_bytes"] < chunk else "FAIL"
            targets.append(("resumption resends under one chunk", verdict,
                            f"{r['resent_bytes']:,} B resent; the chunk cut was {_fmt(r.get('chunk_in_flight_bytes'))} B, "
                            f"the mean chunk {r['mean_chunk_bytes']:,} B"))
            line["targets"] = {"resend_under_one_chunk": verdict}
    pushes = [r for r in results if r["scenario"] == "push" and r.get("device_peak_rss_mb")]
    if len(pushes) >= 2:
        small, large = min(pushes, key=lambda r: r["records"]), max(pushes, key=lambda r: r["records"])
        ratio = large["device_peak_rss_mb"] / small["device_peak_rss_mb"]
        server_ratio = _ratio(large.get("server_peak_rss_mb"), small.get("server_peak_rss_mb"))
        verdict = "PASS" if ratio < 1.25 and large["status"] == "ok" else "FAIL"
        targets.append((
            f"device peak RSS flat {small['records']:,} → {large['records']:,} (ratio < 1.25)", verdict,
            f"{small['device_peak_rss_mb']} → {large['device_peak_rss_mb']} MB (×{ratio:.2f}); server "
            f"{small.get('server_peak_rss_mb')} → {large.get('server_peak_rss_mb')} MB (×{server_ratio})",
        ))
        for line in lines:
            if line["scenario"] == "push" and line["records"] == large["records"]:
                line.setdefault("targets", {})["device_memory_flat"] = {"verdict": verdict, "ratio": round(ratio, 3)}
    tt = Table(title="Targets", header_style="bold")
    for column in ("target", "verdict", "figures"):
        tt.add_column(column)
    for name, verdict, text in targets:
        tt.add_row(name, f"[{'green' if verdict == 'PASS' else 'red' if verdict == 'FAIL' else 'yellow'}]{verdict}[/]", text)
    console.print(tt)
    return lines


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in HELPERS:
        print(json.dumps(HELPERS[sys.argv[1]](sys.argv[2:])))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--counts", type=int, nargs="+", default=[1000, 10000, 100000], help="push sizes")
    p.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite", help="the server's database")
    p.add_argument("--postgres", default=DEFAULT_POSTGRES)
    p.add_argument("--scenarios", nargs="+", choices=["push", "pull", "resume", "throttle"],
                   default=["push", "pull", "resume", "throttle"])
    p.add_argument("--throttle-only", action="store_true", help="only the throttled link (both engines)")
    p.add_argument("--skip-morango", action="store_true", help="Edu Vault only (no ratios)")
    p.add_argument("--questions", type=int, default=200, help="the server's bank")
    p.add_argument("--learners", type=int, default=40, help="learners the pushed records spread over")
    p.add_argument("--pull-learners", type=int, default=40)
    p.add_argument("--pull-attempts", type=int, default=10)
    p.add_argument("--pull-answers", type=int, default=20)
    p.add_argument("--pull-cold", action="store_true",
                   help="do not make the server's replication entries before the pull (its first sync makes them)")
    p.add_argument("--week-learners", type=int, default=40)
    p.add_argument("--week-attempts", type=int, default=5)
    p.add_argument("--week-answers", type=int, default=10)
    p.add_argument("--throttle-kbit", type=float, default=100)
    p.add_argument("--throttle-delay-ms", type=float, default=250)
    p.add_argument("--cut-records", type=int, default=10000, help="records of the push that is cut")
    p.add_argument("--chunk-bytes", type=int, default=0, help="EDUVAULT_DEVICE_CHUNK_BYTES (default: its own)")
    p.add_argument("--part-bytes", type=int, default=0, help="EDUVAULT_DEVICE_PART_BYTES (default: its own)")
    p.add_argument("--max-seconds", type=float, default=900, help="give up on one sync after this long")
    p.add_argument("--no-follow-up", action="store_true",
                   help="skip the second sync after each push (what comes back down, whether anything goes up again)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs, databases)")
    args = p.parse_args()
    if args.throttle_only:
        args.scenarios = ["throttle"]
    if "push" not in args.scenarios:
        args.counts = []

    started = time.perf_counter()
    bench = Bench(args)
    results: list[dict[str, Any]] = []
    morango: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        bench.build_template()
        bench.write_records()
        for n in args.counts:
            results.append(bench.push(n))
        if "pull" in args.scenarios:
            results.append(bench.pull())
        if "resume" in args.scenarios:
            results.append(bench.resume())
        if "throttle" in args.scenarios:
            results.append(bench.throttled())
        if not args.skip_morango:
            scenarios = [s for s in ("push", "pull") if s in args.scenarios]
            if scenarios:
                argv = ["--scenarios", *scenarios, "--records-file", str(bench.files["push" if args.counts else "pull"])]
                if args.counts:
                    argv += ["--counts", *map(str, args.counts)]
                argv += ["--pull-records-file", str(bench.files["pull"])]
                for line in bench.morango(*argv):
                    morango[(line["scenario"], line["records"])] = line
            if "throttle" in args.scenarios:
                n = args.week_learners * args.week_attempts * args.week_answers
                for line in bench.morango(
                    "--scenarios", "push", "--records-file", str(bench.files["week"]), "--counts", str(n),
                    "--throttle-kbit", f"{args.throttle_kbit:g}", "--throttle-delay-ms", f"{args.throttle_delay_ms:g}",
                ):
                    morango[("throttled", line["records"])] = dict(line, scenario="throttled")
    finally:
        bench.cleanup()
    lines = report(bench, results, morango)
    kept = f"work dir {bench.work}" if args.keep else "work dir removed (--keep keeps it)"
    print(f"total {time.perf_counter() - started:.0f} s; server database {args.database}; {kept}")
    for failure in bench.failures:
        print(f"FAILED: {failure}")
    for line in lines:
        print(json.dumps(line, default=str))
    raise SystemExit(1 if bench.failures else 0)


if __name__ == "__main__":
    main()
