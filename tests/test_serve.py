"""`eduvault serve` under attack and after a crash, as a real process on the embedded worker.

- A learner's answer to a catastrophic pattern is graded at once while other requests go on.
- Sign-in throttling cannot be escaped by choosing one's own X-Forwarded-For, unless the
  operator lists the proxy that sets it.
- A signed webhook sent chunked is read and verified; too large a chunked body is a 413.
- A server SIGKILLed while it holds a course's claim, started again, takes the claim back at
  once (not after the 300-second lease) and the course is synced once.
- Several worker processes share a burst of connections, and a killed one is replaced.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from django.utils import timezone
from eduvault_openedx import sender

from eduvault.integrations.openedx.simulator import OpenEdxSimulator
from eduvault.integrations.services import source_add
from eduvault.kernel import signing as signatures
from eduvault.learning.assessments.models import Assessment
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.services import course_sync_blocks
from tests.conftest import CLIENT_ID, CLIENT_SECRET, COURSE_KEY, small_course
from tests.learning.assessments.conftest import QUADRATICS, someone
from tests.pipeline.inbox.test_brokers import wait_for
from tests.stack import Stack

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WEBHOOK_SECRET = "whsec_dGVzdC1zZWNyZXQtZm9yLXN0dWRpbw=="


def embedded(request, **settings: str) -> Stack:
    """A served instance with no broker: it drains the inbox itself."""
    stack = Stack("", **settings)
    request.addfinalizer(stack.stop)
    return stack


# -- a catastrophic pattern ------------------------------------------------------------------


def test_a_catastrophic_pattern_is_graded_at_once_while_the_server_keeps_answering(request):
    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    instructor, learner = someone("mr-banda", "instructor"), someone("amina")
    stack = embedded(request)
    url = stack.serve()

    def client(who) -> httpx.Client:
        token = who.client._credentials["HTTP_AUTHORIZATION"]
        return httpx.Client(base_url=url, headers={"Authorization": token}, timeout=30)

    questions = f"/api/v1/courses/{COURSE_KEY}/questions/"
    refused = client(instructor).post(
        questions,
        json={
            "subtopic": QUADRATICS,
            "document": {
                "type": "text_input",
                "prompt": "Say it twice",
                "answers": [{"value": "aa"}, {"regex": r"(a)\1"}],
            },
        },
    )
    assert refused.status_code == 422, refused.text
    assert (
        r"'(a)\\1'" in refused.json()["detail"]
        and "backreferences are not supported" in refused.json()["detail"]
    )
    created = client(instructor).post(
        questions,
        json={
            "subtopic": QUADRATICS,
            "document": {
                "id": "evil",
                "type": "text_input",
                "prompt": "Type some a's",
                "answers": [{"value": "a"}, {"regex": "(a+)+$"}],
            },
        },
    )
    assert created.status_code == 201, created.text

    practice = Assessment.objects.get(kind="practice", subtopics=[QUADRATICS])
    attempt = client(learner).post(f"/api/v1/assessments/{practice.pk}/attempts").json()

    # Something else keeps asking the server how it is, all the time the answer is graded.
    latencies: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=url, timeout=10) as http:
            while not stop.is_set():
                started = time.perf_counter()
                assert http.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - started)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    time.sleep(0.3)
    started = time.perf_counter()
    answered = client(learner).post(
        f"/api/v1/attempts/{attempt['id']}/answers",
        json={"client_id": "evil-1", "question": "evil", "answer": "a" * 999 + "!"},
    )
    took = time.perf_counter() - started
    time.sleep(0.3)
    stop.set()
    prober.join(10)
    assert answered.status_code == 201, answered.text
    assert answered.json()["correct"] is False
    # With a backtracking matcher this answer never finishes; on RE2 it is one ordinary request.
    assert took < 2.0, took
    assert len(latencies) > 5 and max(latencies) < 2.0, latencies


# -- sign-in throttling behind (and not behind) a proxy ---------------------------------------


def _sign_in(url: str, username: str, forwarded_for: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return httpx.post(
        f"{url}/api/v1/auth/token",
        json={"username": username, "password": "guess"},
        headers=headers,
        timeout=30,
    ).status_code


def test_a_made_up_forwarded_for_chooses_nothing(request):
    stack = embedded(request, EDUVAULT_SIGN_IN_RATE="5/min", EDUVAULT_SIGN_IN_ACCOUNT_RATE="10/15min")
    url = stack.serve()
    addresses = (f"198.51.100.{n}" for n in itertools.count(1))
    # Many accounts, a new "address" each time: all from 127.0.0.1 in truth.
    assert [_sign_in(url, f"user{n}", next(addresses)) for n in range(8)] == [401] * 5 + [429] * 3


def test_behind_a_trusted_proxy_each_client_address_counts_and_each_account_too(request):
    stack = embedded(
        request,
        EDUVAULT_SIGN_IN_RATE="5/min",
        EDUVAULT_SIGN_IN_ACCOUNT_RATE="10/15min",
        EDUVAULT_TRUSTED_PROXIES="127.0.0.1",
    )
    url = stack.serve()
    addresses = (f"198.51.100.{n}" for n in itertools.count(1))
    # The proxy says who the clients are: each address has its own count ...
    assert [_sign_in(url, f"user{n}", next(addresses)) for n in range(8)] == [401] * 8
    # ... so one address is throttled by its own failures (the proxy appends the peer it saw:
    # the rightmost untrusted address is the client, whatever the client wrote before it) ...
    assert [_sign_in(url, f"other{n}", "6.6.6.6, 203.0.113.9") for n in range(6)] == [401] * 5 + [429]
    # ... and sixty guesses at one account from sixty addresses meet the account's limit.
    codes = [_sign_in(url, "operator", next(addresses)) for _ in range(60)]
    assert codes == [401] * 10 + [429] * 50


# -- a webhook sent chunked ------------------------------------------------------------------


def test_a_signed_webhook_sent_chunked_is_accepted_and_an_oversized_one_is_413(request):
    source_add(
        platform="openedx",
        name="lms",
        base_url="http://lms.test",
        client_id="c",
        client_secret="s",
        webhook_secret=WEBHOOK_SECRET,
    )
    stack = embedded(request)
    url = stack.serve()
    body = sender.cloud_event(
        sender.COURSE_PUBLISHED, {"course_key": COURSE_KEY}, source="http://studio.test"
    )
    data = json.dumps(body).encode()
    headers = {
        **signatures.headers_for(WEBHOOK_SECRET, body["id"], data),
        "Content-Type": "application/cloudevents+json",
    }

    def in_chunks(payload: bytes, size: int = 100):
        for start in range(0, len(payload), size):
            yield payload[start : start + size]

    accepted = httpx.post(f"{url}/api/v1/webhooks/lms", content=in_chunks(data), headers=headers, timeout=30)
    assert accepted.status_code == 202, accepted.text
    assert InboundEvent.objects.filter(event_id=body["id"]).count() == 1

    big = b"x" * (1024 * 1024 + 1)
    refused = httpx.post(
        f"{url}/api/v1/webhooks/lms",
        content=in_chunks(big, 64 * 1024),
        headers={**signatures.headers_for(WEBHOOK_SECRET, "big", big), "Content-Type": "application/json"},
        timeout=30,
    )
    assert refused.status_code == 413, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "at most 1,048,576 bytes" in refused.json()["detail"]

    # No framing at all is a 411; an empty body, a 400; neither is a "signature refused".
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as raw:
        raw.sendall(b"POST /api/v1/webhooks/lms HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 411"), answer[:200]
    assert b"Content-Length or Transfer-Encoding: chunked" in answer
    empty = httpx.post(f"{url}/api/v1/webhooks/lms", content=b"", headers=headers, timeout=30)
    assert empty.status_code == 400 and "the body is empty" in empty.json()["detail"]
    assert InboundEvent.objects.count() == 1


# -- a crash while holding a claim -------------------------------------------------------------


def test_a_server_killed_while_it_holds_a_claim_takes_it_back_at_once_when_started_again(request):
    with OpenEdxSimulator(webhook_secret=WEBHOOK_SECRET) as lms:
        lms.add_client(CLIENT_ID, CLIENT_SECRET)
        lms.add_course(small_course())
        source_add(
            platform="openedx",
            name="lms",
            base_url=lms.base_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            webhook_secret=WEBHOOK_SECRET,
        )
        # A lease as long as production's: waiting it out would take five minutes.
        stack = embedded(request, EDUVAULT_LEASE_SECONDS="300", EDUVAULT_HTTP_TIMEOUT="120")
        lms.webhook_url = f"{stack.serve()}/api/v1/webhooks/lms"
        lms.slow_next(1, seconds=60, path_prefix="/api/courses/v2/blocks")  # the sync hangs mid-fetch
        lms.publish(COURSE_KEY)
        wait_for(
            lambda: InboundEvent.objects.filter(status="processing").exclude(lease_process="").exists(),
            20,
            stack,
            "the server to claim the course",
        )
        held = InboundEvent.objects.get()
        assert held.lease_expires_at > timezone.now() + timezone.timedelta(seconds=250)
        # Killed once its fetch hangs in the platform (before that, the slow answer would be
        # the restarted server's to wait for).
        wait_for(lambda: not lms._faults, 20, stack, "the sync's fetch to hang")
        server = stack.procs[-1][1]
        stack.kill(server)  # a power cut, as far as the server can tell

        restarted = time.monotonic()
        stack.serve()
        wait_for(
            lambda: InboundEvent.objects.filter(status="done").exists(),
            20,
            stack,
            "the restarted server to sync",
        )
        assert time.monotonic() - restarted < 20
        event = InboundEvent.objects.get()
        assert event.attempts == 2 and event.lease_process == "" and event.result["outcome"] == "applied"
        assert list(SyncRun.objects.values_list("outcome", flat=True)) == ["applied"]
        assert Course.objects.get(key=COURSE_KEY).version == 1


# -- several worker processes --------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in Path(stat.parent, "cmdline").read_bytes():
            found.add(int(stat.parent.name))
    return found


ESTABLISHED, LISTEN = "01", "0A"


def _sockets_held(pid: int, port: int, state: str = ESTABLISHED) -> int:
    """How many TCP sockets on ``port`` in ``state`` process ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[9]
            held += local_port == port and fields[3] == state and inode in inodes
    return held


def _get_on_new_connections(port: int, count: int) -> list[socket.socket]:
    """``count`` connections opened at once, each answered once and kept open."""
    opened = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    for conn in opened:
        conn.sendall(b"GET /api/v1/courses/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    for conn in opened:
        assert conn.recv(65536).startswith(b"HTTP/1.1 401"), "every connection is answered"
    return opened


def _two_workers(stack: Stack, *, besides: int = 0) -> set[int]:
    """The serving processes of a `serve --workers 2`, once two (not ``besides``) listen,
    each on a socket of its own."""
    found: set[int] = set()

    def ready() -> bool:
        found.clear()
        found.update(_children(stack.server_process().pid) - {besides})
        return len(found) == 2 and all(_sockets_held(pid, stack.port, LISTEN) == 1 for pid in found)

    wait_for(ready, 30, stack, "two worker processes")
    return found


@pytest.mark.once  # processes and sockets: the database under them does not matter
def test_several_workers_share_a_burst_of_connections_and_a_killed_one_is_replaced(request):
    stack = embedded(request)
    stack.serve(workers=2)
    workers = _two_workers(stack)
    # A burst of 64 connections (an exam opening): each worker listens on a socket of its
    # own and the kernel spreads them, where on one shared socket the first worker awake
    # took nearly all. (Each gets at least 12 but for a 1-in-10-million hash draw.)
    opened = _get_on_new_connections(stack.port, 64)
    try:
        held = {pid: _sockets_held(pid, stack.port) for pid in workers}
        assert sum(held.values()) == 64 and min(held.values()) >= 12, held
    finally:
        for conn in opened:
            conn.close()

    # A worker killed is replaced, and from then on every connection is answered: the dead
    # worker's socket closed with it, so none waits in a queue nobody reads.
    dead = min(workers)
    os.kill(dead, signal.SIGKILL)
    now = _two_workers(stack, besides=dead)
    opened = _get_on_new_connections(stack.port, 32)
    try:
        held = {pid: _sockets_held(pid, stack.port) for pid in now}
        assert sum(held.values()) == 32 and all(held.values()), held
    finally:
        for conn in opened:
            conn.close()
