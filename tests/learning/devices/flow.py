"""Helpers for the device tests: a server's class (course, bank, learners), a device as its own
Edu Vault process tree (data directory, embedded SQLite), and a proxy that cuts a connection."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.stack import ROOT, free_port

LEARNERS = ("amina", "chikondi", "kondwani")
PASSWORD = "correct horse battery"


def class_seed(*, learners=LEARNERS, questions: int = 6) -> dict:
    """On the server (this process's test database): the small course, a bank in one
    subtopic, an exam, learners enrolled (and one learner of another course)."""
    from django.contrib.auth.hashers import make_password

    from eduvault.learning.assessments.models import Assessment
    from eduvault.learning.assessments.services import exam_create
    from eduvault.pipeline.content.models import Course
    from eduvault.pipeline.records.enrollments import enrollment_add
    from eduvault.identity.services import user_create
    from tests.learning.assessments.conftest import QUADRATICS, bank, load_bank
    from tests.conftest import COURSE_KEY, small_course
    from eduvault.pipeline.sync.services import course_sync_blocks

    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    load_bank(QUADRATICS, bank(QUADRATICS, questions, "q"))
    course = Course.objects.get(key=COURSE_KEY)
    exam = exam_create(course=course, title="Mid-term", subtopics=[QUADRATICS], actor="test", time_limit_seconds=1800)
    # Hashed as production hashes (the tests' own settings hash with MD5 for speed).
    hashed = make_password(PASSWORD, hasher="pbkdf2_sha256")
    for name in learners:
        user = user_create(username=name, role="learner", password=PASSWORD)
        user.password = hashed
        user.save(update_fields=["password"])
        enrollment_add(course=course, username=name, actor="test")
    user_create(username="outsider", role="learner", password=PASSWORD)
    practice = Assessment.objects.get(kind="practice", subtopic=QUADRATICS)
    return {"course": course, "practice": practice.pk, "exam": exam.pk}


class Device:
    """An Edu Vault of its own (a school laptop): its data directory and embedded database."""

    def __init__(self, root: Path, name: str) -> None:
        self.dir = root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
        self.env.update(
            EDUVAULT_DATA_DIR=str(self.dir),
            DJANGO_SETTINGS_MODULE="eduvault.config.settings",
            EDUVAULT_LOG_LEVEL="WARNING",
        )
        self.server: subprocess.Popen | None = None
        self.url = ""

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "eduvault", *args],
            capture_output=True, text=True, env=self.env, timeout=timeout, cwd=ROOT,
        )

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, f"eduvault {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def python(self, code: str) -> str:
        """Run Python against the device's database (a learner's work offline, a check)."""
        prelude = "import django, os; django.setup()\n"
        result = subprocess.run(
            [sys.executable, "-c", prelude + code], capture_output=True, text=True, env=self.env, timeout=120, cwd=ROOT
        )
        assert result.returncode == 0, result.stderr[-4000:]
        return result.stdout

    def serve(self) -> str:
        port = free_port()
        self.server = subprocess.Popen(
            [sys.executable, "-m", "eduvault", "serve", "--port", str(port)],
            env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                return self.url
            except httpx.TransportError:
                assert self.server.poll() is None and time.monotonic() < deadline, "the device's serve did not start"
                time.sleep(0.1)

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            self.server.wait(10)
        self.server = None


def offline_practice(url: str, *, username: str, practice: int, answers: int, submit: bool = True) -> str:
    """A learner signs in on the device (with the password hash it pulled) and practises."""
    with httpx.Client(base_url=url + "/api/v1/", timeout=30) as http:
        token = http.post("auth/token", json={"username": username, "password": PASSWORD})
        assert token.status_code == 200, token.text
        http.headers["Authorization"] = f"Bearer {token.json()['access']}"
        attempt = http.post(f"assessments/{practice}/attempts")
        assert attempt.status_code in (200, 201), attempt.text
        body = attempt.json()
        for i, item in enumerate(body["questions"][:answers]):
            question = item["question"]
            given = "b" if question["type"] == "single_choice" else 12.5
            r = http.post(
                f"attempts/{body['id']}/answers",
                json={"client_id": f"{username}-{i}", "question": question["id"], "answer": given},
            )
            assert r.status_code in (200, 201), r.text
        if submit:
            assert http.post(f"attempts/{body['id']}/submit").status_code == 200
        return body["id"]


def profile_edit(url: str, *, username: str, **fields: str) -> None:
    with httpx.Client(base_url=url + "/api/v1/", timeout=30) as http:
        token = http.post("auth/token", json={"username": username, "password": PASSWORD}).json()["access"]
        r = http.patch("me/profile", json=fields, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text


class CuttingProxy:
    """A TCP proxy on loopback that closes both sides once ``cut_after`` bytes have gone in
    the chosen direction (``up``: device to server; ``down``: server to device); then it
    passes everything."""

    def __init__(self, target_port: int, *, cut_after: int, direction: str, marker: bytes = b"") -> None:
        self.target = target_port
        self.cut_after = cut_after
        self.direction = direction
        #: Counting starts where this is first seen in that direction.
        self.marker = marker
        self.counting = not marker
        self.counted = 0
        self.cut = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, upstream, "up"), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, "down"), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, direction: str) -> None:
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    break
                if direction == self.direction and not self.cut and not self.counting:
                    at = data.find(self.marker)
                    if at >= 0:
                        self.counting = True
                        dst.sendall(data[:at])
                        data = data[at:]
                if direction == self.direction and not self.cut and self.counting:
                    room = self.cut_after - self.counted
                    if len(data) >= room:
                        dst.sendall(data[:room])
                        self.counted += room
                        self.cut = True
                        for s in (src, dst):
                            try:
                                s.shutdown(socket.SHUT_RDWR)
                            except OSError:
                                pass
                        break
                    self.counted += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


WORK = """
from django.contrib.auth import get_user_model
from eduvault.identity.services import person_of
from eduvault.learning.assessments.services import attempt_answer, attempt_start, attempt_submit
from eduvault.learning.assessments.models import Response
for name in {learners!r}:
    person = person_of(get_user_model().objects.get(username=name))
    for n in range({attempts}):
        attempt, _ = attempt_start(assessment_id={practice}, person=person)
        for i, r in enumerate(Response.objects.filter(attempt=attempt).select_related('question').order_by('position')):
            given = 'b' if r.question.type == 'single_choice' else 12.5
            attempt_answer(attempt_id=attempt.pk, person=person, client_id=f'{{name}}-{{n}}-{{i}}', question=r.question.key, answer=given)
        attempt_submit(attempt_id=attempt.pk, person=person)
print('ok')
"""


def offline_work(device: Device, *, practice: int, learners=LEARNERS, attempts: int = 10) -> None:
    """Learners' practice on the device, straight through its services (many attempts fast)."""
    assert device.python(WORK.format(learners=tuple(learners), attempts=attempts, practice=practice)).strip() == "ok"
