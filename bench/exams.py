"""Benchmark: 2,000 learners sitting one exam at once, answering through the ASGI server.

One `eduvault serve --workers 2` (uvicorn, PostgreSQL; each process on a socket of its own,
with the default ``EDUVAULT_SERVER_THREADS`` unless ``--threads`` is given, and
``EDUVAULT_DB_POOL_MAX`` 20) and, in this process, one asyncio client: aiohttp, HTTP/1.1
keep-alive, 200 connections in all shared by every session.

1. Setup, in-process: a course of four subtopics with ten questions each (single choice,
   multiple response, numeric, text input, ordering; 1 or 2 points), an exam drawing 20 of
   them per attempt (feedback on submit), and 2,000 learners with a JWT each.
2. Start: every learner starts an attempt (``POST /api/v1/assessments/<id>/attempts``,
   50 at a time); each attempt stays open for the whole run.
3. Answers (``POST /api/v1/attempts/<id>/answers``), open loop: one every 1/rate seconds
   for ``--seconds``, sent at fixed times whatever the responses do, so a slow server shows
   up as latency (queueing included), never as a lower offered rate; how late the generator
   itself fired is reported, with the CPU of client, server and PostgreSQL. Sessions take
   turns (round robin over those with no answer in flight); each answers its next question
   (20% of the time one it answered before), right (60%) or wrong. 2% of answers are sent
   twice with the same client_id (at once, or right after the first response), as a client
   on a poor connection retries; a timeout, connection error or 5xx is retried with the
   same client_id.
4. Baseline, same run, server, tokens and rate: ``GET /api/v1/me`` (an authenticated view
   doing no database work) for ``--baseline-seconds``; latencies and throughput side by side.
5. Submit: every attempt is submitted.
6. Checks, in the database: one ``Answer`` row per client_id acknowledged (201 or 200),
   none lost, none stored twice, none acknowledged 201 twice (a duplicate gets 200 and adds
   nothing), the tries of the responses adding up to the rows, each stored answer and grade
   the one sent; each attempt's score the points of the questions whose answer that counts
   (the last stored) was sent right, and, for sessions that never had two answers in
   flight, the last stored being the last sent; no 5xx. PASS or FAIL (and the exit status).

    cd bench && ../.venv/bin/python exams.py [--sessions 2000] [--rate 200] [--seconds 180]
    cd bench && ../.venv/bin/python exams.py --quick     # 200 sessions, 20 s: a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import secrets
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from common import (
    DEFAULT_POSTGRES,
    Process,
    django_on,
    free_port,
    percentile,
    reachable,
    scratch_database,
    wait_http,
)
from rich.console import Console
from rich.table import Table

console = Console()

COURSE_KEY = "course-v1:Bench+EXAM+2026"
SUBTOPICS = 4
QUESTIONS_PER_SUBTOPIC = 10
QUESTIONS_PER_ATTEMPT = 20
TYPES = ("single_choice", "multiple_response", "numeric", "text_input", "ordering")


# -- setup (in-process) -------------------------------------------------------------------------


def question_document(qid: str, kind: str, n: int) -> dict[str, Any]:
    """One question of type ``kind``; its points vary (1 or 2) so that scores say more."""
    base = {"id": qid, "type": kind, "prompt": f"Question {qid}.", "points": 1 + n % 2}
    if kind == "single_choice":
        right = "abcd"[n % 4]
        choices = [{"id": c, "text": f"Option {c}", "correct": c == right} for c in "abcd"]
        return {**base, "choices": choices}
    if kind == "multiple_response":
        choices = [{"id": c, "text": f"Option {c}", "correct": c in "ac"} for c in "abcde"]
        return {**base, "choices": choices}
    if kind == "numeric":
        return {**base, "answer": 10.5 + n, "absolute_tolerance": 0.1}
    if kind == "text_input":
        return {**base, "answers": [{"value": f"answer {n}"}]}
    if kind == "ordering":
        return {**base, "items": [{"id": f"i{k}", "text": f"Step {k}"} for k in range(4)]}
    raise ValueError(kind)


def wrong_answer(document: dict[str, Any], right: Any) -> Any:
    """An answer worth nothing (every type here is all or nothing)."""
    kind = document["type"]
    if kind == "single_choice":
        return next(c["id"] for c in document["choices"] if not c["correct"])
    if kind == "multiple_response":
        return [c["id"] for c in document["choices"] if not c["correct"]]
    if kind == "numeric":
        return right + 1000
    if kind == "text_input":
        return "not the answer"
    if kind == "ordering":
        return list(reversed(right))
    raise ValueError(kind)


@dataclass(frozen=True)
class Key:
    """The right and a wrong answer to one question, and its points."""

    right: Any
    wrong: Any
    points: float


def build_exam(time_limit: int) -> tuple[int, dict[str, Key]]:
    """Sync the course, load the question bank, create the exam: (exam id, answer key)."""
    from eduvault.cores.grading import grade_try, parse_question, solution
    from eduvault.integrations.openedx.simulator.course import SimulatedCourse
    from eduvault.learning.assessments.services import exam_create, questions_import
    from eduvault.pipeline.content.selectors import course_get
    from eduvault.pipeline.sync.services import course_sync_blocks

    org, number, run = COURSE_KEY.removeprefix("course-v1:").split("+")
    sim = SimulatedCourse(org, number, run, "Bench Mathematics", start="2026-01-05T07:30:00Z")
    chapter = sim.add(sim.root, "chapter", "Everything", block_id="everything")
    subtopics = []
    for s in range(SUBTOPICS):
        seq = sim.add(chapter, "sequential", f"Subtopic {s + 1}", block_id=f"sub{s}")
        unit = sim.add(seq, "vertical", f"Unit {s + 1}", block_id=f"sub{s}-u")
        sim.add(unit, "problem", f"Problem {s + 1}", block_id=f"sub{s}-p", weight=1.0)
        subtopics.append(seq)
    course_sync_blocks(course_key=sim.course_key, blocks=sim.blocks_response())
    course = course_get(key=sim.course_key)

    key: dict[str, Key] = {}
    for s, subtopic in enumerate(subtopics):
        documents = []
        for q in range(QUESTIONS_PER_SUBTOPIC):
            n = s * QUESTIONS_PER_SUBTOPIC + q
            document = question_document(f"q{n:03d}", TYPES[q % len(TYPES)], n)
            parsed = parse_question(document)
            right = solution(parsed)
            wrong = wrong_answer(document, right)
            graded_right = grade_try(parsed, right, try_number=1)
            graded_wrong = grade_try(parsed, wrong, try_number=1)
            assert graded_right.correct and graded_right.score == 1, document
            assert not graded_wrong.correct and graded_wrong.score == 0, document
            key[document["id"]] = Key(right=right, wrong=wrong, points=parsed.points)
            documents.append(document)
        report = questions_import(course=course, subtopic=subtopic, documents=documents, actor="bench")
        assert not report.invalid and len(report.created) == QUESTIONS_PER_SUBTOPIC, report.as_dict()
    exam = exam_create(
        course=course,
        title="Bench exam",
        subtopics=subtopics,
        actor="bench",
        questions_per_attempt=QUESTIONS_PER_ATTEMPT,
        time_limit_seconds=time_limit,
        attempt_limit=1,
    )
    return exam.pk, key


def learners(count: int) -> list[str]:
    """``count`` learners without passwords (sign-in is not measured): their JWTs."""
    from eduvault.identity.services import access_token_issue, person_of, user_create

    tokens = []
    for i in range(count):
        user = user_create(username=f"learner{i:05d}", role="learner", password=None, origin="api")
        tokens.append(access_token_issue(person=person_of(user)))
    return tokens


# -- the client -------------------------------------------------------------------------------------


@dataclass
class Session:
    """One learner's open attempt."""

    index: int
    headers: dict[str, str]
    attempt: str = ""
    #: The attempt's question ids, in the order this learner goes through them.
    order: list[str] = field(default_factory=list)
    cursor: int = 0
    answered: list[str] = field(default_factory=list)
    #: Question id -> was the last acknowledged answer (in sending order) right?
    last: dict[str, bool] = field(default_factory=dict)
    #: An answer of this session was never acknowledged, or two were in flight at once:
    #: its final score cannot be predicted from the client's side alone.
    unsure: bool = False
    #: Answers of this session in flight (it is in the idle queue when none are).
    busy: int = 0


@dataclass
class Sent:
    """One answer (one client_id), and every response it got."""

    attempt: str
    question: str
    answer: Any
    right: bool
    statuses: list[int] = field(default_factory=list)
    resent: str = ""  # "", "at once" or "after": a deliberate duplicate


def _lists() -> collections.defaultdict:
    return collections.defaultdict(list)


def _counters() -> collections.defaultdict:
    return collections.defaultdict(collections.Counter)


@dataclass
class Stats:
    """What the client saw, by kind of request."""

    #: Send to response, in seconds (waiting for one of the client's connections included).
    latencies: dict[str, list[float]] = field(default_factory=_lists)
    #: Of which: waiting for one of the client's connections.
    queued: dict[str, list[float]] = field(default_factory=_lists)
    statuses: dict[str, collections.Counter] = field(default_factory=_counters)
    errors: dict[str, collections.Counter] = field(default_factory=_counters)
    in_flight: collections.Counter = field(default_factory=collections.Counter)
    peak: collections.Counter = field(default_factory=collections.Counter)
    #: Per phase: how late the generator fired each send; seconds from the first scheduled
    #: send to the last (window) and to the last response (span); CPU seconds used.
    lags: dict[str, list[float]] = field(default_factory=_lists)
    windows: dict[str, float] = field(default_factory=dict)
    spans: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    #: Answers: (seconds into the phase when sent, latency) of each first send.
    timeline: list[tuple[float, float]] = field(default_factory=list)
    #: Attempt id -> the score its submission returned.
    scores: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    overlapped: int = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)


@dataclass
class Reply:
    """A response, read whole."""

    status_code: int
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class Client:
    """aiohttp (its HTTP parser is C): one connector of ``--connections`` keep-alive
    connections, requests beyond them waiting their turn. The client shares the server's two
    cores, so it must cost as little as it can: httpx spent about twice the CPU per request
    and, at 200 answers a second, became the bottleneck itself (its generator firing late
    while the server was half idle)."""

    def __init__(self, base: str, args: argparse.Namespace, stats: Stats) -> None:
        import aiohttp

        self.base = base
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=args.connections, force_close=False),
            timeout=aiohttp.ClientTimeout(total=args.timeout),
            json_serialize=lambda value: orjson.dumps(value).decode(),
        )
        self.gate = asyncio.Semaphore(args.connections)
        self.stats = stats
        self.retries = args.retries

    async def aclose(self) -> None:
        await self.http.close()

    async def send(
        self, kind: str, method: str, url: str, *, retries: int | None = None, **kwargs: Any
    ) -> Reply | None:
        """Send until a response that is not a 5xx, retrying timeouts, connection errors and
        5xx with the very same request, at most ``1 + retries`` times: the last response, or
        None."""
        import aiohttp

        stats = self.stats
        response = None
        for attempt in range((self.retries if retries is None else retries) + 1):
            label = kind if attempt == 0 else f"{kind} (retry)"
            stats.in_flight[label] += 1
            stats.peak[label] = max(stats.peak[label], stats.in_flight[label])
            t0 = time.perf_counter()
            try:
                async with self.gate:
                    stats.queued[label].append(time.perf_counter() - t0)
                    async with self.http.request(method, self.base + url, **kwargs) as raw:
                        response = Reply(raw.status, await raw.read())
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                stats.errors[label][type(exc).__name__] += 1
                response = None
                continue
            finally:
                stats.in_flight[label] -= 1
            stats.latencies[label].append(time.perf_counter() - t0)
            stats.statuses[label][response.status_code] += 1
            if response.status_code < 500:
                return response
        return response


async def open_loop(stats: Stats, phase: str, rate: float, seconds: float, fire, cpu_of) -> None:
    """Call ``fire(i, sent_at)`` at fixed times, ``rate`` a second for ``seconds``, whatever
    the responses do; then wait for every call to finish."""
    loop = asyncio.get_running_loop()
    total = round(rate * seconds)
    tasks: set[asyncio.Task] = set()
    cpu0, others0 = time.process_time(), cpu_of()
    start = loop.time() + 0.05
    for i in range(total):
        due = start + i / rate
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        now = loop.time()
        stats.lags[phase].append(now - due)
        task = asyncio.create_task(fire(i, now - start))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    stats.windows[phase] = loop.time() - start
    while tasks:
        await asyncio.gather(*list(tasks))
    stats.spans[phase] = loop.time() - start
    stats.cpu[phase] = time.process_time() - cpu0
    for name, seconds_used in cpu_of().items():
        stats.cpu[f"{name} {phase}"] = seconds_used - others0.get(name, 0.0)


class closed_phase:
    """Times a phase driven by a fixed number of requests (starts, submits) and takes the
    CPU the client, the server and PostgreSQL used over it, as ``open_loop`` does."""

    def __init__(self, stats: Stats, phase: str, cpu_of) -> None:
        self.stats, self.phase, self.cpu_of = stats, phase, cpu_of

    def __enter__(self) -> None:
        self.t0, self.cpu0, self.others0 = time.perf_counter(), time.process_time(), self.cpu_of()

    def __exit__(self, *exc: object) -> None:
        self.stats.spans[self.phase] = time.perf_counter() - self.t0
        self.stats.cpu[self.phase] = time.process_time() - self.cpu0
        for name, seconds_used in self.cpu_of().items():
            self.stats.cpu[f"{name} {self.phase}"] = seconds_used - self.others0.get(name, 0.0)


async def drive(
    args: argparse.Namespace, base: str, exam_id: int, tokens: list[str], key: dict[str, Key], cpu_of
) -> tuple[Stats, dict[str, Sent], list[Session]]:
    rng = random.Random(args.seed)
    stats = Stats()
    sent: dict[str, Sent] = {}
    sessions = [Session(i, {"Authorization": f"Bearer {t}"}) for i, t in enumerate(tokens)]
    client = Client(base, args, stats)
    try:
        # 1. Every learner starts an attempt, so many at a time.
        gate = asyncio.Semaphore(args.start_concurrency)

        async def start(session: Session) -> None:
            async with gate:
                response = await client.send(
                    "start attempt",
                    "POST",
                    f"/api/v1/assessments/{exam_id}/attempts",
                    headers=session.headers,
                )
            if response is None or response.status_code not in (200, 201):
                stats.problem(f"start {session.index}: {response and response.status_code}")
                return
            body = response.json()
            session.attempt = body["id"]
            session.order = [q["question"]["id"] for q in body["questions"]]
            rng.shuffle(session.order)

        with closed_phase(stats, "start", cpu_of), console.status(f"starting {len(sessions):,} attempts…"):
            await asyncio.gather(*(start(s) for s in sessions))
        active = [s for s in sessions if s.attempt]
        if len(active) < len(sessions):
            stats.problem(f"only {len(active)} of {len(sessions)} attempts started")
        if not active:
            return stats, sent, sessions

        # 2. Answers, open loop, round robin over the sessions with nothing in flight.
        idle = collections.deque(active)

        async def post(session: Session, client_id: str, body: dict[str, Any], kind: str) -> int:
            response = await client.send(
                kind,
                "POST",
                f"/api/v1/attempts/{session.attempt}/answers",
                json=body,
                headers=session.headers,
            )
            if response is None:
                return 0
            sent[client_id].statuses.append(response.status_code)
            if response.status_code in (200, 201):
                got = response.json()
                if got.get("client_id") != client_id or got.get("recorded") is not True:
                    stats.problem(f"answer {client_id}: unexpected body {got}")
            else:
                stats.problem(f"answer {client_id}: {response.status_code} {response.text[:200]}")
            return response.status_code

        async def answer(i: int, at: float) -> None:
            if idle:
                session = idle.popleft()
            else:  # every session busy: the server is far behind; keep the offered rate
                session = active[i % len(active)]
                session.unsure = True
                stats.overlapped += 1
            session.busy += 1
            if session.answered and rng.random() < args.revisit:
                question = rng.choice(session.answered)
            else:
                question = session.order[session.cursor % len(session.order)]
                session.cursor += 1
                if question not in session.answered:
                    session.answered.append(question)
            right = rng.random() < args.right
            given = key[question].right if right else key[question].wrong
            client_id = f"{i}-{uuid.uuid4().hex[:12]}"
            sent[client_id] = Sent(session.attempt, question, given, right)
            body = {"client_id": client_id, "question": question, "answer": given}
            first = len(stats.latencies["answer"])
            if rng.random() < args.duplicates:
                if rng.random() < 0.5:
                    sent[client_id].resent = "at once"
                    codes = await asyncio.gather(
                        post(session, client_id, body, "answer"),
                        post(session, client_id, body, "answer, resent at once"),
                    )
                else:
                    sent[client_id].resent = "after"
                    codes = [await post(session, client_id, body, "answer")]
                    codes.append(await post(session, client_id, body, "answer, resent after"))
            else:
                codes = [await post(session, client_id, body, "answer")]
            if len(stats.latencies["answer"]) > first:
                stats.timeline.append((at, stats.latencies["answer"][-1]))
            if any(c in (200, 201) for c in codes):
                session.last[question] = right
            else:
                session.unsure = True
            session.busy -= 1
            if not session.busy:
                idle.append(session)

        with console.status(
            f"answers: {args.rate:g}/s for {args.seconds:g} s over {len(active):,} sessions…"
        ):
            await open_loop(stats, "answers", args.rate, args.seconds, answer, cpu_of)

        # 3. Baseline: the same rate, the same tokens, a view that does no database work.
        async def me(i: int, at: float) -> None:
            session = active[i % len(active)]
            response = await client.send(
                "GET /api/v1/me", "GET", "/api/v1/me", headers=session.headers, retries=0
            )
            if response is not None and response.status_code != 200:
                stats.problem(f"me: {response.status_code} {response.text[:200]}")

        with console.status(f"baseline: GET /api/v1/me, {args.rate:g}/s for {args.baseline_seconds:g} s…"):
            await open_loop(stats, "baseline", args.rate, args.baseline_seconds, me, cpu_of)

        # 4. Every attempt submitted.
        async def submit(session: Session) -> None:
            async with gate:
                response = await client.send(
                    "submit",
                    "POST",
                    f"/api/v1/attempts/{session.attempt}/submit",
                    headers=session.headers,
                )
            if response is None or response.status_code != 200:
                stats.problem(f"submit {session.index}: {response and response.status_code}")
                return
            body = response.json()
            if body.get("status") != "submitted":
                stats.problem(f"submit {session.index}: status {body.get('status')}")
            stats.scores[session.attempt] = body.get("score")

        with closed_phase(stats, "submit", cpu_of), console.status(f"submitting {len(active):,} attempts…"):
            await asyncio.gather(*(submit(s) for s in active))
    finally:
        await client.aclose()
    return stats, sent, sessions


# -- checks (in-process, in the database) ------------------------------------------------------------


def verify(
    exam_id: int, stats: Stats, sent: dict[str, Sent], sessions: list[Session], key: dict[str, Key]
) -> list[tuple[str, str, str, bool]]:
    """Rows of (check, expected, got, ok)."""
    from django.db.models import Sum

    from eduvault.learning.assessments.models import Answer, Attempt, Response

    rows = list(
        Answer.objects.filter(attempt__assessment_id=exam_id)
        .order_by("id")
        .values_list("attempt_id", "client_id", "question__key", "answer", "correct")
    )
    stored = collections.Counter((str(a), c) for a, c, *_ in rows)
    acknowledged = {c for c, s in sent.items() if 200 in s.statuses or 201 in s.statuses}
    sent_ids = {(s.attempt, c) for c, s in sent.items()}
    ack_ids = {(sent[c].attempt, c) for c in acknowledged}
    lost = ack_ids - set(stored)
    unknown = set(stored) - sent_ids
    unacknowledged = (set(stored) & sent_ids) - ack_ids
    doubled = sum(n - 1 for n in stored.values() if n > 1)
    created_twice = sum(1 for s in sent.values() if s.statuses.count(201) > 1)
    mismatched = 0
    #: Attempt -> question -> the client_id of the answer that counts (the last stored).
    counts: dict[str, dict[str, str]] = collections.defaultdict(dict)
    for attempt, client_id, question, given, correct in rows:
        counts[str(attempt)][question] = client_id
        s = sent.get(client_id)
        if s is not None and (
            s.attempt != str(attempt) or s.question != question or s.answer != given or s.right != correct
        ):
            mismatched += 1
    duplicates = [s for s in sent.values() if s.resent]
    duplicates_ok = sum(1 for s in duplicates if sorted(s.statuses) == [200, 201])
    tries = Response.objects.filter(attempt__assessment_id=exam_id).aggregate(n=Sum("tries"))["n"] or 0
    five_xx = sum(n for counter in stats.statuses.values() for code, n in counter.items() if code >= 500)

    # Scores: the points of the questions whose answer that counts was sent right; the
    # answer that counts is the last stored, which (one answer in flight per session) must
    # be the last sent.
    expected = {
        attempt: sum(key[q].points for q, c in last.items() if sent[c].right)
        for attempt, last in counts.items()
    }
    started = [s for s in sessions if s.attempt]
    score_wrong = sum(
        1 for s in started if abs(expected.get(s.attempt, 0) - (stats.scores.get(s.attempt) or 0)) > 1e-6
    )
    stored_scores = dict(
        (str(a), score)
        for a, score in Attempt.objects.filter(assessment_id=exam_id).values_list("id", "score")
    )
    stored_wrong = sum(
        1 for s in started if abs(expected.get(s.attempt, 0) - (stored_scores.get(s.attempt) or 0)) > 1e-6
    )
    sure = [s for s in started if not s.unsure]
    order_wrong = sum(
        1 for s in sure if s.last != {q: sent[c].right for q, c in counts.get(s.attempt, {}).items()}
    )
    right_counted = collections.Counter(
        str(a)
        for a in Response.objects.filter(attempt__assessment_id=exam_id, correct=True).values_list(
            "attempt_id", flat=True
        )
    )
    right_wrong = sum(
        1
        for s in started
        if right_counted.get(s.attempt, 0) != sum(sent[c].right for c in counts.get(s.attempt, {}).values())
    )
    submitted = Attempt.objects.filter(assessment_id=exam_id, status="submitted").count()
    n = f"{len(started):,}"

    def row(check: str, want: int | str, got: int, ok: bool | None = None) -> tuple[str, str, str, bool]:
        want_text = want if isinstance(want, str) else f"{want:,}"
        return (check, want_text, f"{got:,}", (got == want) if ok is None else ok)

    return [
        row("attempts started", len(sessions), len(started)),
        row("answers sent (client_ids)", "", len(sent), True),
        row("  acknowledged (201 or 200)", len(sent), len(acknowledged)),
        row("Answer rows in the database", len(acknowledged), len(rows)),
        row("  acknowledged, not stored (lost)", 0, len(lost)),
        row("  stored, never acknowledged", 0, len(unacknowledged)),
        row("  stored, never sent", 0, len(unknown)),
        row("  a client_id stored twice", 0, doubled),
        row("  a client_id answered 201 twice", 0, created_twice),
        row("sent twice: one 201, one 200", len(duplicates), duplicates_ok),
        row("sum of Response.tries", len(rows), tries),
        row("stored ≠ sent (answer, grade)", 0, mismatched),
        row("attempts submitted", len(started), submitted),
        row("submitted score = answers' score", n, len(started) - score_wrong, score_wrong == 0),
        row("stored score = answers' score", n, len(started) - stored_wrong, stored_wrong == 0),
        row("right answers counted", n, len(started) - right_wrong, right_wrong == 0),
        row("last stored = last sent", f"{len(sure):,}", len(sure) - order_wrong, order_wrong == 0),
        row("5xx responses", 0, five_xx),
    ]


# -- report -----------------------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value * 1000:,.1f}" if value < 1 else f"{value * 1000:,.0f}"


def spread(values: list[float]) -> list[str]:
    return [ms(percentile(values, q)) for q in (50, 95, 99)] + [ms(max(values, default=float("nan")))]


SHORT = {
    "start attempt": "start attempt",
    "answer": "answer",
    "answer, resent at once": "  resent at once",
    "answer, resent after": "  resent after",
    "GET /api/v1/me": "GET /me",
    "submit": "submit",
}


def short(kind: str) -> str:
    base, retry = kind.removesuffix(" (retry)"), kind.endswith(" (retry)")
    return SHORT.get(base, base) + (" retry" if retry else "")


def report(args: argparse.Namespace, stats: Stats, sent: dict[str, Sent], checks: list[tuple]) -> bool:
    answers, me = stats.latencies.get("answer", []), stats.latencies.get("GET /api/v1/me", [])
    table = Table(
        title=(
            f"{args.sessions:,} exam sessions; answers at {args.rate:g}/s for {args.seconds:g} s, "
            f"then GET /me at {args.rate:g}/s for {args.baseline_seconds:g} s"
        ),
        header_style="bold",
    )
    for column in ("requests", "count", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms", "peak"):
        table.add_column(column, justify="left" if column == "requests" else "right")
    spans = {"answer": "answers", "GET /api/v1/me": "baseline", "start attempt": "start", "submit": "submit"}
    order = [
        "start attempt",
        "answer",
        "answer, resent at once",
        "answer, resent after",
        "GET /api/v1/me",
        "submit",
    ]
    kinds = sorted(stats.latencies, key=lambda k: (order.index(k.removesuffix(" (retry)")), k))
    for kind in kinds:
        values = stats.latencies[kind]
        span = stats.spans.get(spans.get(kind, ""))
        table.add_row(
            short(kind),
            f"{len(values):,}",
            f"{len(values) / span:,.1f}" if span else "",
            *spread(values),
            f"{stats.peak[kind]:,}",
        )
    console.print(table)
    console.print(
        f"  per s: responses over the phase, first scheduled send to last response; peak: most in "
        f"flight at once (the client holds {args.connections} connections; starts and submits "
        f"{args.start_concurrency} at a time)"
    )

    if answers and me:
        offered = {p: len(stats.lags[p]) / stats.windows[p] for p in ("answers", "baseline")}
        achieved = {
            "answers": len(answers) / stats.spans["answers"],
            "baseline": len(me) / stats.spans["baseline"],
        }
        table = Table(
            title="Answers against the baseline (same run, server, tokens, rate)", header_style="bold"
        )
        for column in ("", "answers", "GET /me", "ratio"):
            table.add_column(column, justify="right")
        for name, rates in (("offered /s", offered), ("achieved /s", achieved)):
            a, b = rates["answers"], rates["baseline"]
            table.add_row(name, f"{a:,.1f}", f"{b:,.1f}", f"{a / b:.2f}")
        for q in (50, 95, 99):
            a, b = percentile(answers, q), percentile(me, q)
            table.add_row(f"p{q} ms", ms(a), ms(b), f"{a / b:.2f}")
        console.print(table)
        for phase, what in (("answers", "answers"), ("baseline", "GET /me")):
            if achieved[phase] < 0.95 * offered[phase]:
                console.print(
                    f"  [yellow]the server did not keep up with {what}[/]: {achieved[phase]:,.1f}/s of "
                    f"{offered[phase]:,.1f}/s offered; a queue built up, and latencies include it"
                )

    if stats.timeline:
        step = max(10.0, args.seconds / 6)
        table = Table(title="Answers over time (by when they were sent)", header_style="bold")
        for column in ("sent at s", "answers", "p50 ms", "p95 ms", "p99 ms", "max ms"):
            table.add_column(column, justify="right")
        buckets: dict[int, list[float]] = collections.defaultdict(list)
        for at, latency in stats.timeline:
            buckets[int(at // step)].append(latency)
        for b, values in sorted(buckets.items()):
            table.add_row(f"{b * step:.0f}–{(b + 1) * step:.0f}", f"{len(values):,}", *spread(values))
        console.print(table)

    table = Table(title="The client keeping up (ms), and CPU (% of one core)", header_style="bold")
    for column in ("phase", "lag p50", "lag p99", "lag max", "queued p99", "client", "server", "postgres"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for phase, kind in (
        ("start", "start attempt"),
        ("answers", "answer"),
        ("baseline", "GET /api/v1/me"),
        ("submit", "submit"),
    ):
        if phase not in stats.cpu:
            continue
        lags, span = stats.lags.get(phase), stats.spans[phase]
        table.add_row(
            phase,
            *((ms(v) for v in (percentile(lags, 50), percentile(lags, 99), max(lags))) if lags else "–––"),
            ms(percentile(stats.queued[kind], 99)),
            f"{100 * stats.cpu[phase] / span:.0f}%",
            f"{100 * stats.cpu[f'server {phase}'] / span:.0f}%",
            f"{100 * stats.cpu[f'postgres {phase}'] / span:.0f}%"
            if f"postgres {phase}" in stats.cpu
            else "–",
        )
    console.print(table)
    console.print(
        "  lag: how late the generator fired after the scheduled time; queued: how long a request "
        "waited for a free client connection (part of its latency); CPU over the phase (starts and "
        "submits are sent so many at a time, not at fixed times: no lag)"
    )
    per = [
        f"{what} {1000 * stats.cpu[f'server {phase}'] / len(stats.latencies[kind]):.1f} ms"
        for phase, kind, what in (
            ("start", "start attempt", "a start"),
            ("answers", "answer", "an answer"),
            ("baseline", "GET /api/v1/me", "a GET /me"),
            ("submit", "submit", "a submit"),
        )
        if f"server {phase}" in stats.cpu and stats.latencies.get(kind)
    ]
    if per:
        console.print("  server CPU per request: " + ", ".join(per))

    table = Table(title="Responses by status, and transport errors", header_style="bold")
    for column in ("requests", "status or error", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for kind in sorted(
        set(stats.statuses) | set(stats.errors), key=lambda k: (order.index(k.removesuffix(" (retry)")), k)
    ):
        for code, n in sorted(stats.statuses.get(kind, {}).items()):
            table.add_row(short(kind), str(code), f"{n:,}")
        for name, n in sorted(stats.errors.get(kind, {}).items()):
            table.add_row(short(kind), name, f"{n:,}")
    console.print(table)

    table = Table(title="Nothing lost, nothing doubled (checked in the database)", header_style="bold")
    for column in ("check", "expected", "got", ""):
        table.add_column(column, justify="left" if column == "check" else "right")
    for name, expected, got, ok in checks:
        table.add_row(name, expected, got, "[green]ok[/]" if ok else "[red]FAIL[/]")
    console.print(table)
    replaced = collections.Counter((s.attempt, s.question) for s in sent.values())
    console.print(
        f"  {sum(n - 1 for n in replaced.values()):,} answers replaced an earlier answer to the same "
        f"question; {sum(s.right for s in sent.values()):,} were right"
        + (f"; {stats.overlapped:,} went to a session with one in flight" if stats.overlapped else "")
    )
    for problem in stats.problems:
        console.print(f"[yellow]· {problem}[/]", markup=True, highlight=False)
    passed = all(ok for *_, ok in checks) and not stats.problems
    if passed:
        console.print("[bold green]PASS[/]: every answer acknowledged and stored once, none lost, no 5xx")
    else:
        console.print("[bold red]FAIL[/]: see above")
    return passed


def cpu_used(server_pgid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the server's processes, and by local
    PostgreSQL processes (none if the database is on another machine)."""
    used: dict[str, float] = collections.defaultdict(float)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        if int(fields[2]) == server_pgid:
            used["server"] += ticks
        elif name == "postgres":
            used["postgres"] += ticks
    return {name: ticks / os.sysconf("SC_CLK_TCK") for name, ticks in used.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200, help="answers (then baseline calls) a second")
    parser.add_argument("--seconds", type=float, default=180, help="how long answers are sent")
    parser.add_argument("--baseline-seconds", type=float, default=30)
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 200 sessions, 20 s (baseline 10 s)"
    )
    parser.add_argument("--connections", type=int, default=200, help="the client's connections")
    parser.add_argument("--start-concurrency", type=int, default=50, help="starts (and submits) at once")
    parser.add_argument("--duplicates", type=float, default=0.02, help="share of answers sent twice")
    parser.add_argument("--revisit", type=float, default=0.2, help="share of answers to an answered question")
    parser.add_argument("--right", type=float, default=0.6, help="share of right answers")
    parser.add_argument("--timeout", type=float, default=30, help="seconds before a request is retried")
    parser.add_argument("--retries", type=int, default=5)
    parser.add_argument(
        "--server-workers", type=int, default=2, help="uvicorn worker processes (one per core)"
    )
    parser.add_argument("--pool", type=int, default=20, help="the server's EDUVAULT_DB_POOL_MAX")
    parser.add_argument(
        "--threads", type=int, help="the server's EDUVAULT_SERVER_THREADS (default: the server's own)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    if args.quick:  # smaller defaults; options given explicitly still win
        parser.set_defaults(sessions=200, seconds=20, baseline_seconds=10)
        args = parser.parse_args()
    if not reachable(args.postgres):
        raise SystemExit("this benchmark needs PostgreSQL")
    database = scratch_database(args.postgres, "eduvault_bench_exams")
    django_on(
        database,
        EDUVAULT_SECRET_KEY=secrets.token_urlsafe(48),  # the server signs and checks with it too
        EDUVAULT_ACCESS_TOKEN_SECONDS="7200",
    )
    t0 = time.perf_counter()
    with console.status("course, questions, exam and learners…"):
        exam_id, key = build_exam(time_limit=int(args.seconds + args.baseline_seconds + 3600))
        tokens = learners(args.sessions)
    console.print(
        f"{len(key)} questions ({', '.join(TYPES)}) over {SUBTOPICS} subtopics; an exam of "
        f"{QUESTIONS_PER_ATTEMPT} a attempt, feedback on submit; {len(tokens):,} learners "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="eduvault-bench-"))
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "EDUVAULT_AUTO_MIGRATE": "0",
        "EDUVAULT_LOG_LEVEL": "WARNING",
        "EDUVAULT_RECONCILE_SECONDS": "0",
        "EDUVAULT_DB_POOL_MAX": str(args.pool),
    }
    if args.threads:
        env["EDUVAULT_SERVER_THREADS"] = str(args.threads)
    serve = ("serve", "--port", str(port), "--workers", str(args.server_workers))
    server = Process(*serve, env=env, log=logs / "serve.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/api/v1/me")
        stats, sent, sessions = asyncio.run(
            drive(args, base, exam_id, tokens, key, lambda: cpu_used(server.proc.pid))
        )
    finally:
        server.stop()
    starts = stats.latencies.get("start attempt", [])
    console.print(
        f"{len(starts):,} attempts started in {stats.spans['start']:.1f} s "
        f"({len(starts) / stats.spans['start']:,.0f}/s, {args.start_concurrency} at a time)"
    )
    checks = verify(exam_id, stats, sent, sessions, key)
    passed = report(args, stats, sent, checks)
    log = (logs / "serve.log").read_text(errors="replace").splitlines()
    noisy = [line for line in log if "warning" in line.lower() or "error" in line.lower()]
    console.print(f"server log: {logs / 'serve.log'} ({len(log):,} lines, {len(noisy):,} warnings or errors)")
    for line in noisy[:10]:
        console.print(f"  {line[:300]}", markup=False, highlight=False)
    raise SystemExit(0 if passed else 1)


if __name__ == "__main__":
    main()
