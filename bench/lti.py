"""Benchmark: LTI 1.3 launches per second, and the time from a learner's submit to her score
in the LMS's gradebook.

One `eduvault serve` (uvicorn, one process, no broker: its in-process worker and outbox
deliverer run beside the server, as ``tests/stack.py``'s ``Stack("")`` runs it) on a scratch
database (PostgreSQL ``bench_lti_<pid>`` by default, dropped at the end; or SQLite). The LTI
platform simulator (``eduvault.integrations.lti.simulator.LtiPlatform``) runs in a process
of its own, as an LMS would (its RS256 signing is not this process's CPU), registered with
the tool and the tool with it. This process is the learners' browsers: httpx, one client
(keep-alive, its own cookie jar, emptied before each launch) per thread.

Setup, in-process: the test suite's small course synced, a bank of four questions in its
Quadratics subtopic (two single choice, two numeric; the subtopic's practice is the
assessment launched), one LMS course with ``--launches`` + warm-up learners enrolled and a
resource link (``custom: {"assessment": <practice id>}``) with a gradebook line item.

1. Launches: ``--launches`` (300) learners, ``--concurrency`` (20) at a time, each doing the
   whole OIDC round trip as a browser does it (the steps of ``LtiPlatform.launch``, GET
   initiation): the platform's launch page (302 to the tool's login with ``iss``,
   ``login_hint``, ``target_link_uri``, ``lti_message_hint``), ``GET /lti/login`` (the tool
   stores a state and a nonce; 302 to the platform's ``/auth``), ``GET /auth`` (the platform
   checks the request and its session, builds and signs the id_token: an auto-submitting
   form), ``POST /lti/launch`` (the tool checks the signature against the platform's JWKS,
   ``iss``/``aud``/``nonce``/``state``/deployment and the message claims, makes the person,
   account and enrollment, starts the attempt and renders its page). Reported: launches/s,
   latency p50/p95/p99/max of the round trip and of each step. The tool's share is its two
   steps (``/lti/login``, ``/lti/launch``); the platform's (signing included) is in the round
   trip but not the tool's doing. A few warm-up launches go first, unmeasured (the first one
   fetches the platform's JWKS and links the context and line item: its time is shown).
   Baseline, same run, same server, same concurrency and clients: ``GET /lti/jwks`` (the
   tool's key set: a plain Django view, two small queries) and ``GET /healthz`` (no database)
   for ``--baseline-seconds`` each: requests/s and latency, and the ratio (a launch costs as
   much server time as N trivial requests).
2. Submit to score: ``--submits`` (100) of the launched learners, ``--submit-concurrency``
   (default ``--concurrency``) at a time, answer every question right (the bank's solution,
   ``solution(parse_question(…))``, as ``tests/learning/assessments/conftest.py``'s
   ``right_answer``) by POSTing the page's forms, then POST ``/lti/attempt/submit``. Clocked from the submit request's start to the
   moment the platform simulator accepted that learner's score on the line item (its AGS
   scores handler is wrapped to note the instant, CLOCK_MONOTONIC, the same clock as this
   process's): p50/p95/max. The server's deliverer runs with its default
   ``EDUVAULT_DELIVER_SECONDS`` (1 s: how often it looks when nothing woke it; a commit in the
   server process wakes it at once) unless ``--deliver-seconds`` sets it. After the last
   score, the run waits two deliverer periods more, then checks that every learner's score
   arrived exactly once (accepted scores per (line item, sub) == 1), full marks, and none for
   learners who did not submit.

Checks: no launch error, every baseline request 200, every answer and submit 200 with full
marks, every score received once, no platform error or refused authentication request.
PASS, or FAIL and exit status 1.

    .venv/bin/python bench/lti.py [--launches 300] [--concurrency 20] [--submits 100]
        [--submit-concurrency C] [--database postgres|sqlite] [--postgres URL]
        [--deliver-seconds S] [--baseline-seconds 10]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from common import DEFAULT_POSTGRES, Helper, Process, drop_scratch, free_port, percentile, scratch_django, wait_http
from rich.console import Console
from rich.table import Table

console = Console(width=None if sys.stdout.isatty() else 150)

CLIENT_ID = "eduvault-tool"
CONTEXT = "math-f3"
LINK = "rl-quadratics"
PLATFORM_NAME = "moodle"
WARMUP = 3
#: Steps of a launch, in order: (label, who answers).
STEPS = (
    ("platform launch page", "platform"),
    ("GET /lti/login", "tool"),
    ("GET /auth (signs id_token)", "platform"),
    ("POST /lti/launch", "tool"),
)


# -- the platform, in a process of its own -------------------------------------------------------------


def platform_process(conn: Any, tool_base: str, learners: list[str], assessment: int) -> None:
    """Serve an LTI platform with one course, ``learners`` enrolled and a resource link to
    ``assessment`` with a line item; note when each score is accepted; answer the parent's
    commands until told to stop."""
    from eduvault.integrations.lti.simulator import LtiPlatform, ags, oidc, routes

    accepted: list[tuple[str, str, float]] = []  # (line item id, sub, CLOCK_MONOTONIC)
    signing: list[float] = []  # seconds inside /auth's handler (checks, id_token built, signed)
    lock = threading.Lock()
    score_handler, auth_handler = ags.scores, oidc.authorize

    def timed_scores(call: Any) -> Any:
        reply = score_handler(call)  # raises (an error answer) unless the score is accepted
        at = time.monotonic()
        item = (
            call.platform.base_url
            + call.path.removesuffix("/scores")
            + (f"?{call.raw_query}" if call.raw_query else "")
        )
        with lock:
            accepted.append((item, str(call.json()["userId"]), at))
        return reply

    def timed_authorize(call: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return auth_handler(call)
        finally:
            with lock:
                signing.append(time.perf_counter() - t0)

    for i, (methods, pattern, handler) in enumerate(routes.ROUTES):
        if handler is score_handler:
            routes.ROUTES[i] = (methods, pattern, timed_scores)
        elif handler is auth_handler:
            routes.ROUTES[i] = (methods, pattern, timed_authorize)

    lms = LtiPlatform().start()
    lms.register_tool(
        CLIENT_ID,
        login_url=f"{tool_base}/lti/login",
        launch_url=f"{tool_base}/lti/launch",
        jwks_url=f"{tool_base}/lti/jwks",
    )
    lms.add_course(CONTEXT, "Form 3 Mathematics")
    for sub in learners:
        lms.add_user(sub, f"Learner {sub}", f"{sub}@school.mw")
        lms.enroll(CONTEXT, sub)
    link = lms.add_resource_link(
        CONTEXT, LINK, title="Quadratics practice", custom={"assessment": str(assessment)},
        line_item={"label": "Quadratics practice", "scoreMaximum": 10},
    )  # fmt: skip
    conn.send(
        {
            "issuer": lms.issuer,
            "auth_url": lms.auth_url,
            "token_url": lms.token_url,
            "jwks_url": lms.jwks_url,
            "line_item": link.line_item_id,
        }
    )
    while True:
        command, argument = conn.recv()
        if command == "urls":  # single-use launch URLs, made now (they live five minutes)
            conn.send([lms.launch_url(sub, CONTEXT, LINK) for sub in argument])
        elif command == "accepted":
            with lock:
                conn.send(list(accepted))
        elif command == "scores":
            with lms.lock:
                conn.send({key: [dict(s) for s in history] for key, history in lms.scores.items()})
        elif command == "signing":
            with lock:
                conn.send(list(signing))
                signing.clear()
        elif command == "requests":
            kinds: collections.Counter[str] = collections.Counter()
            for r in list(lms.requests):
                path = re.sub(r"/launch/[^/]+$", "/launch/<hint>", r.path)
                path = re.sub(r"/line_items/\d+", "/line_items/<n>", path)
                kinds[f"{r.method} {path} {r.status}"] += 1
            conn.send(dict(kinds))
        elif command == "problems":
            conn.send({"errors": list(lms.errors), "auth_refusals": list(lms.auth_refusals)})
        elif command == "cpu":
            conn.send(time.process_time())
        elif command == "stop":
            lms.stop()
            conn.send(None)
            return


class Platform(Helper):
    def __init__(self, tool_base: str, learners: list[str], assessment: int) -> None:
        super().__init__(platform_process, tool_base, learners, assessment)


# -- setup (in-process) ------------------------------------------------------------------------------


def setup_course() -> tuple[int, dict[str, dict[str, Any]]]:
    """The small course synced, four questions in Quadratics: (its practice's id, the form
    fields of each question's right answer by question key)."""
    from tests.conftest import COURSE_KEY, small_course
    from tests.learning.assessments.conftest import (
        QUADRATICS,
        choice,
        load_bank,
        numeric,
        practice_id,
        right_answer,
    )

    from eduvault.pipeline.sync.services import course_sync_blocks

    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    documents = [choice("q1"), numeric("q2"), choice("q3", right="c"), numeric("q4", answer=3.25)]
    load_bank(QUADRATICS, documents)
    forms = {}
    for document in documents:
        answer = right_answer({"id": document["id"]})
        if document["type"] == "single_choice":
            forms[document["id"]] = {"choice": answer}
        elif document["type"] == "numeric":
            forms[document["id"]] = {"value": f"{answer:g}"}
        else:
            raise ValueError(document["type"])
    return practice_id(QUADRATICS), forms


# -- the browsers ------------------------------------------------------------------------------------


class Browsers:
    """One httpx client per thread (a browser: keep-alive, a cookie jar)."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.all: list[Any] = []
        self.lock = threading.Lock()

    def get(self) -> Any:
        import httpx

        http = getattr(self.local, "http", None)
        if http is None:
            http = self.local.http = httpx.Client(timeout=60, follow_redirects=False)
            with self.lock:
                self.all.append(http)
        return http

    def close(self) -> None:
        for http in self.all:
            http.close()


class LaunchFailed(Exception):
    pass


def launch(http: Any, url: str, auth_url: str) -> tuple[str, list[float]]:
    """One browser's OIDC round trip from the LMS's launch link: (the tool's page, seconds of
    each step). Raises :class:`LaunchFailed` saying which step went wrong."""
    from eduvault.integrations.lti.simulator import parse_form

    http.cookies.clear()  # a fresh browser session; the platform's page logs it in
    times = []
    t = time.perf_counter()

    def step(response: Any, want: int, what: str) -> Any:
        nonlocal t
        now = time.perf_counter()
        times.append(now - t)
        t = now
        if response.status_code != want:
            raise LaunchFailed(f"{what}: {response.status_code} {response.text[:200]!r}")
        return response

    page = step(http.get(url), 302, "platform launch page")
    login = step(http.get(urljoin(url, page.headers["location"])), 302, "GET /lti/login")
    location = urljoin(str(login.request.url), login.headers["location"])
    if not location.startswith(auth_url + "?"):
        raise LaunchFailed(f"GET /lti/login redirected to {location[:120]}, not to the platform's /auth")
    answer = step(http.get(location), 200, "GET /auth")
    form = parse_form(answer.text)
    if form is None or form[1] != "post" or "id_token" not in form[2]:
        raise LaunchFailed("GET /auth: no id_token form")
    tool = step(http.post(urljoin(location, form[0]), data=form[2]), 200, "POST /lti/launch")
    if 'data-testid="question"' not in tool.text:
        raise LaunchFailed(f"POST /lti/launch: not the attempt page: {tool.text[:200]!r}")
    return tool.text, times


def run_threads(count: int, work: Any) -> float:
    """Run ``work()`` in ``count`` threads until each returns; the wall seconds."""
    threads = [threading.Thread(target=work, daemon=True) for _ in range(count)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - t0


class Launches:
    """Learners launching, ``concurrency`` at a time; launch URLs asked of the platform in
    batches just before they are used."""

    def __init__(self, platform: Platform, subs: list[str], browsers: Browsers) -> None:
        self.platform, self.browsers = platform, browsers
        self.todo = collections.deque(subs)
        self.urls: collections.deque[tuple[str, str]] = collections.deque()
        self.lock = threading.Lock()
        self.pages: dict[str, str] = {}
        self.steps: list[list[float]] = []
        self.totals: list[float] = []
        self.errors: collections.Counter[str] = collections.Counter()
        self.examples: list[str] = []

    def next(self) -> tuple[str, str] | None:
        with self.lock:
            if not self.urls and self.todo:
                batch = [self.todo.popleft() for _ in range(min(100, len(self.todo)))]
                self.urls.extend(zip(batch, self.platform.ask("urls", batch), strict=True))
            return self.urls.popleft() if self.urls else None

    def work(self) -> None:
        http = self.browsers.get()
        auth_url = self.platform.info["auth_url"]
        while (item := self.next()) is not None:
            sub, url = item
            t0 = time.perf_counter()
            try:
                page, times = launch(http, url, auth_url)
            except Exception as exc:
                with self.lock:
                    kind = str(exc).split(":")[0] if isinstance(exc, LaunchFailed) else type(exc).__name__
                    self.errors[kind] += 1
                    if len(self.examples) < 5:
                        self.examples.append(f"{sub}: {exc}"[:300])
                continue
            total = time.perf_counter() - t0
            with self.lock:
                self.pages[sub] = page
                self.steps.append(times)
                self.totals.append(total)


def baseline(base: str, path: str, seconds: float, concurrency: int, browsers: Browsers) -> dict[str, Any]:
    latencies: list[float] = []
    errors: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work() -> None:
        http = browsers.get()
        mine, bad = [], collections.Counter()
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                response = http.get(base + path)
            except Exception as exc:
                bad[type(exc).__name__] += 1
                continue
            if response.status_code == 200:
                mine.append(time.perf_counter() - t0)
            else:
                bad[str(response.status_code)] += 1
        with lock:
            latencies.extend(mine)
            errors.update(bad)

    wall = run_threads(concurrency, work)
    return {"latencies": latencies, "errors": errors, "wall": wall}


# -- submits -------------------------------------------------------------------------------------------


def hidden_fields(page: str, position: int) -> dict[str, str]:
    section = re.search(
        rf'<section data-testid="question" data-position="{position}".*?</section>', page, re.S
    )
    if section is None:
        raise LookupError(f"no question {position} on the page")
    return dict(
        re.findall(r'<input type="hidden" name="(t|position|client_id)" value="([^"]*)"', section.group(0))
    )


def answers_of(pages: dict[str, str], forms: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each learner's forms, one per question of her attempt, with its right answer (her
    attempt's questions read from the database: the page does not say which they are)."""
    from eduvault.learning.assessments.models import Response

    attempts = {}
    for sub, page in pages.items():
        client_id = re.search(r'name="client_id" value="([^"]+)"', page).group(1)
        attempts[sub] = client_id.rsplit("-", 2)[0]  # "<attempt id>-<position>-<tries>"
    by_attempt: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
    rows = Response.objects.filter(attempt_id__in=list(attempts.values())).values_list(
        "attempt_id", "position", "question__key"
    )
    for attempt, position, key in rows:
        by_attempt[str(attempt)].append((position, key))
    return {
        sub: [
            {**hidden_fields(pages[sub], position), **forms[key]}
            for position, key in sorted(by_attempt[attempt])
        ]
        for sub, attempt in attempts.items()
    }


class Submits:
    def __init__(self, base: str, todo: dict[str, list[dict[str, Any]]], browsers: Browsers) -> None:
        self.base, self.browsers = base, browsers
        self.todo = collections.deque(todo.items())
        self.lock = threading.Lock()
        self.answer_latencies: list[float] = []
        self.submit_latencies: list[float] = []
        #: sub -> (CLOCK_MONOTONIC at the submit request's start, at its response)
        self.submitted: dict[str, tuple[float, float]] = {}
        self.full_marks: set[str] = set()
        self.errors: collections.Counter[str] = collections.Counter()
        self.examples: list[str] = []

    def problem(self, kind: str, text: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.examples) < 5:
                self.examples.append(text[:300])

    def work(self) -> None:
        http = self.browsers.get()
        while True:
            with self.lock:
                if not self.todo:
                    return
                sub, answers = self.todo.popleft()
            try:
                credential = ""
                for fields in answers:
                    t0 = time.perf_counter()
                    response = http.post(f"{self.base}/lti/attempt/answer", data=fields)
                    elapsed = time.perf_counter() - t0
                    if response.status_code != 200 or "Right" not in response.text:
                        self.problem(
                            "answer", f"{sub}: answer {response.status_code} {response.text[:200]!r}"
                        )
                        continue
                    with self.lock:
                        self.answer_latencies.append(elapsed)
                    credential = fields["t"]
                if not credential:
                    continue
                start = time.monotonic()
                response = http.post(f"{self.base}/lti/attempt/submit", data={"t": credential})
                end = time.monotonic()
            except Exception as exc:
                self.problem(type(exc).__name__, f"{sub}: {exc}")
                continue
            if response.status_code != 200 or 'data-testid="score"' not in response.text:
                self.problem("submit", f"{sub}: submit {response.status_code} {response.text[:200]!r}")
                continue
            n = len(answers)
            with self.lock:
                self.submit_latencies.append(end - start)
                self.submitted[sub] = (start, end)
                if f"<strong>{n} of {n}</strong>" in response.text:
                    self.full_marks.add(sub)


def wait_for_scores(platform: Platform, line_item: str, subs: set[str], timeout: float) -> float:
    """Poll the platform until each of ``subs`` has a score on ``line_item``; the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        got = {sub for item, sub, _ in platform.ask("accepted") if item == line_item}
        if subs <= got:
            break
        time.sleep(0.05)
    return time.monotonic() - t0


# -- CPU -------------------------------------------------------------------------------------------------


def cpu_used(server_pgid: int, platform_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the server's processes, the platform's
    process and local PostgreSQL processes."""
    used: dict[str, float] = collections.defaultdict(float)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        pid = int(stat.parent.name)
        if int(fields[2]) == server_pgid:
            used["server"] += ticks
        elif pid == platform_pid:
            used["platform"] += ticks
        elif name == "postgres":
            used["postgres"] += ticks
    out = {name: ticks / os.sysconf("SC_CLK_TCK") for name, ticks in used.items()}
    out["client"] = time.process_time()
    return out


class Cpu:
    def __init__(self, read: Any) -> None:
        self.read = read
        self.phases: dict[str, tuple[float, dict[str, float]]] = {}

    def measure(self, phase: str, run: Any) -> Any:
        before, t0 = self.read(), time.perf_counter()
        result = run()
        after, wall = self.read(), time.perf_counter() - t0
        self.phases[phase] = (wall, {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after})
        return result


# -- report -----------------------------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value * 1000:,.1f}" if value < 10 else f"{value * 1000:,.0f}"


def spread(values: list[float]) -> list[str]:
    return [ms(percentile(values, q)) for q in (50, 95, 99)] + [ms(max(values, default=float("nan")))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--launches", type=int, default=300, help="learners launching (N)")
    parser.add_argument(
        "--concurrency", type=int, default=20, help="launches (and baseline requests, submits) at once"
    )
    parser.add_argument(
        "--submits", type=int, default=100, help="launched learners who answer and submit (M)"
    )
    parser.add_argument(
        "--submit-concurrency",
        type=int,
        default=None,
        help="learners answering and submitting at once (default: --concurrency)",
    )
    parser.add_argument("--baseline-seconds", type=float, default=10, help="for each trivial page")
    parser.add_argument(
        "--deliver-seconds", type=float, default=None,
        help="the server's EDUVAULT_DELIVER_SECONDS (default: not set, the server's own default, 1 s)",
    )  # fmt: skip
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server for the scratch database")
    args = parser.parse_args()
    args.submit_concurrency = args.submit_concurrency or args.concurrency
    if not 0 <= args.submits <= args.launches:
        parser.error("--submits must be between 0 and --launches")

    workdir = Path(tempfile.mkdtemp(prefix="eduvault-bench-lti-"))
    scratch, server, platform, browsers, passed = "", None, None, Browsers(), False
    started = time.perf_counter()
    try:
        scratch = scratch_django(args.database, workdir, args.postgres, "bench_lti")
        from django.conf import settings
        from django.db import connection

        from eduvault.integrations.lti.services import lti_platform_add

        with console.status("course, questions…"):
            practice, forms = setup_course()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "EDUVAULT_LOG_LEVEL": "WARNING", "EDUVAULT_RECONCILE_SECONDS": "0"}
        if args.deliver_seconds is not None:
            env["EDUVAULT_DELIVER_SECONDS"] = f"{args.deliver_seconds:g}"
        deliver = (
            args.deliver_seconds if args.deliver_seconds is not None else settings.EDUVAULT_DELIVER_SECONDS
        )
        server = Process("serve", "--port", str(port), env=env, log=workdir / "serve.log")
        wait_http(f"{base}/healthz")
        warm = [f"u-warm-{i}" for i in range(WARMUP)]
        subs = [f"u-{i:05d}" for i in range(args.launches)]
        platform = Platform(base, warm + subs, practice)
        info = platform.info
        lti_platform_add(
            name=PLATFORM_NAME, issuer=info["issuer"], client_id=CLIENT_ID, auth_url=info["auth_url"],
            token_url=info["token_url"], jwks_url=info["jwks_url"], deployments=["1"],
        )  # fmt: skip
        console.print(
            f"`eduvault serve` (one uvicorn process, in-process worker and deliverer, no broker) on "
            f"{connection.vendor} ({scratch or 'bench.sqlite3'}); EDUVAULT_DELIVER_SECONDS {deliver:g}"
            + (" (the server's default)" if args.deliver_seconds is None else "")
            + f"; LTI platform simulator in its own process; {len(forms)} questions in the practice; "
            f"{os.cpu_count()} CPUs"
        )
        cpu = Cpu(lambda: cpu_used(server.proc.pid, platform.process.pid))

        # Warm-up: the first launch fetches the platform's JWKS and links context and line item.
        with console.status("warm-up…"):
            warmup = Launches(platform, warm, browsers)
            warmup.work()
            first = warmup.totals[0] if warmup.totals else float("nan")
            baseline(base, "/lti/jwks", 0.5, 2, browsers)
            platform.ask("signing")
        if warmup.errors:
            console.print(f"[red]warm-up launches failed[/]: {dict(warmup.errors)} {warmup.examples}")

        with console.status(f"baseline: GET /lti/jwks, {args.concurrency} at a time…"):
            jwks = cpu.measure(
                "GET /lti/jwks",
                lambda: baseline(base, "/lti/jwks", args.baseline_seconds, args.concurrency, browsers),
            )
        with console.status(f"baseline: GET /healthz, {args.concurrency} at a time…"):
            health = cpu.measure(
                "GET /healthz",
                lambda: baseline(base, "/healthz", args.baseline_seconds, args.concurrency, browsers),
            )
        with console.status(f"{args.launches} launches, {args.concurrency} at a time…"):
            launches = Launches(platform, subs, browsers)
            launch_wall = cpu.measure("launches", lambda: run_threads(args.concurrency, launches.work))
        signing = platform.ask("signing")

        # Submits: the first M learners who launched.
        chosen = [s for s in subs if s in launches.pages][: args.submits]
        todo = answers_of({s: launches.pages[s] for s in chosen}, forms)
        submits = Submits(base, todo, browsers)
        line_item = info["line_item"]
        with console.status(
            f"{len(todo)} learners answering and submitting, {args.submit_concurrency} at a time…"
        ):
            submit_wall = cpu.measure(
                "answers + submits", lambda: run_threads(args.submit_concurrency, submits.work)
            )
        with console.status("waiting for the scores in the gradebook…"):
            waited = wait_for_scores(
                platform, line_item, set(submits.submitted), timeout=max(60.0, 20 * deliver)
            )
            time.sleep(2 * deliver + 0.5)  # a duplicate would come by now
        accepted = platform.ask("accepted")
        scores = platform.ask("scores")
        requests = platform.ask("requests")
        problems = platform.ask("problems")

        # -- 1. launches against the baseline -------------------------------------------------
        steps = list(zip(*launches.steps, strict=True)) if launches.steps else [[] for _ in STEPS]
        table = Table(
            title=f"LTI launches: {args.launches} learners, {args.concurrency} at a time; baseline at the same concurrency",
            header_style="bold",
        )
        for column in ("requests", "who", "count", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"):
            table.add_column(column, justify="left" if column in ("requests", "who") else "right")
        n_ok = len(launches.totals)
        launch_rate = n_ok / launch_wall if launch_wall else 0.0
        table.add_row("launch round trip (4 requests)", "both", f"{n_ok:,}", f"{launch_rate:,.1f}", *spread(launches.totals),
                      f"{sum(launches.errors.values()):,}")  # fmt: skip
        for (label, who), values in zip(STEPS, steps, strict=True):
            table.add_row(f"  {label}", who, f"{len(values):,}", "", *spread(list(values)), "")
        tool_times = [a + b for a, b in zip(steps[1], steps[3], strict=True)]
        table.add_row("  tool's two steps", "tool", f"{len(tool_times):,}", "", *spread(tool_times), "")
        if signing:
            table.add_row(
                "  (inside /auth's handler)", "platform", f"{len(signing):,}", "", *spread(signing), ""
            )
        for path, run in (("GET /lti/jwks", jwks), ("GET /healthz", health)):
            values = run["latencies"]
            table.add_row(f"{path} (baseline)", "tool", f"{len(values):,}", f"{len(values) / run['wall']:,.1f}",
                          *spread(values), f"{sum(run['errors'].values()):,}")  # fmt: skip
        console.print(table)
        console.print(
            f"  first launch (the tool fetches the platform's JWKS, links the context and the line item): {ms(first)} ms"
        )
        mean = {
            label: sum(v) / len(v) if v else float("nan") for (label, _), v in zip(STEPS, steps, strict=True)
        }
        trip = sum(launches.totals) / n_ok if n_ok else float("nan")
        tool_mean = mean["GET /lti/login"] + mean["POST /lti/launch"]
        console.print(
            f"  mean round trip {ms(trip)} ms: the tool's steps {ms(tool_mean)} ms ({100 * tool_mean / trip:.0f}%: "
            f"/lti/login {ms(mean['GET /lti/login'])}, /lti/launch {ms(mean['POST /lti/launch'])}), the platform's "
            f"{ms(mean['platform launch page'] + mean['GET /auth (signs id_token)'])} ms, the rest the client's "
            f"(parsing the form, httpx)"
        )
        table = Table(
            title="A launch in trivial requests (same server, same concurrency)", header_style="bold"
        )
        for column in (
            "baseline",
            "requests/s",
            "launches/s",
            "ratio",
            "p50 ratio (round trip)",
            "p50 ratio (POST /lti/launch)",
        ):
            table.add_column(column, justify="left" if column == "baseline" else "right")
        for path, run in (("GET /lti/jwks", jwks), ("GET /healthz", health)):
            rate = len(run["latencies"]) / run["wall"]
            p50 = percentile(run["latencies"], 50)
            table.add_row(path, f"{rate:,.1f}", f"{launch_rate:,.1f}", f"{rate / launch_rate:,.1f}x" if launch_rate else "–",
                          f"{percentile(launches.totals, 50) / p50:,.1f}x", f"{percentile(list(steps[3]), 50) / p50:,.1f}x")  # fmt: skip
        console.print(table)
        console.print(
            "  ratio: trivial requests/s over launches/s, i.e. one launch costs that many trivial requests"
        )

        table = Table(title="CPU over each phase (% of one core)", header_style="bold")
        for column in ("phase", "wall s", "server", "postgres", "platform", "client (this process)"):
            table.add_column(column, justify="left" if column == "phase" else "right")
        for phase, (wall, used) in cpu.phases.items():
            table.add_row(
                phase,
                f"{wall:.1f}",
                *(
                    f"{100 * max(0.0, used.get(k, 0.0)) / wall:.0f}%"
                    for k in ("server", "postgres", "platform", "client")
                ),
            )
        console.print(table)

        # -- 2. submit to score ---------------------------------------------------------------
        first_accept: dict[str, float] = {}
        for item, sub, at in accepted:
            if item == line_item and sub not in first_accept:
                first_accept[sub] = at
        to_score = [
            first_accept[s] - start for s, (start, _) in submits.submitted.items() if s in first_accept
        ]
        after_response = [
            first_accept[s] - end for s, (_, end) in submits.submitted.items() if s in first_accept
        ]
        table = Table(
            title=f"Submit to score in the LMS's gradebook: {len(todo)} learners, {args.submit_concurrency} at a time "
            f"(EDUVAULT_DELIVER_SECONDS {deliver:g})",
            header_style="bold",
        )
        for column in ("", "count", "p50 ms", "p95 ms", "p99 ms", "max ms"):
            table.add_column(column, justify="left" if not column else "right")
        table.add_row(
            "POST /lti/attempt/answer",
            f"{len(submits.answer_latencies):,}",
            *spread(submits.answer_latencies),
        )
        table.add_row(
            "POST /lti/attempt/submit (response)",
            f"{len(submits.submit_latencies):,}",
            *spread(submits.submit_latencies),
        )
        table.add_row(
            "submit start → score accepted by the platform", f"{len(to_score):,}", *spread(to_score)
        )
        table.add_row(
            "  submit response → score accepted", f"{len(after_response):,}", *spread(after_response)
        )
        console.print(table)
        console.print(
            f"  submits over {submit_wall:.1f} s (answers included); the last score came {waited:.2f} s after the last "
            f"submit; then {2 * deliver + 0.5:.1f} s more waited for any duplicate"
        )
        counts = {sub: len(history) for (item, sub), history in scores.items() if item == line_item}
        table = Table(title="Requests the platform answered", header_style="bold")
        table.add_column("method path status")
        table.add_column("count", justify="right")
        for kind, n in sorted(requests.items()):
            table.add_row(kind, f"{n:,}")
        console.print(table)

        # -- checks ---------------------------------------------------------------------------
        submitted = set(submits.submitted)
        once = sum(1 for s in submitted if counts.get(s) == 1)
        twice = sum(1 for s in submitted if counts.get(s, 0) > 1)
        missing = sum(1 for s in submitted if not counts.get(s))
        strays = sum(n for s, n in counts.items() if s not in submitted)
        full = sum(
            1 for s in submitted for h in scores.get((line_item, s), [])
            if h.get("scoreGiven") is not None and abs(h["scoreGiven"] - h["scoreMaximum"]) < 1e-9
        )  # fmt: skip
        other_items = sum(len(h) for (item, _), h in scores.items() if item != line_item)
        checks = [
            ("launches that reached the attempt page", args.launches, n_ok),
            ("launch errors", 0, sum(launches.errors.values())),
            (
                "baseline errors (non-200, transport)",
                0,
                sum(jwks["errors"].values()) + sum(health["errors"].values()),
            ),
            (
                "answers accepted (200, Right)",
                sum(len(a) for a in todo.values()),
                len(submits.answer_latencies),
            ),
            ("submits answered with the score", len(todo), len(submitted)),
            ("  with full marks", len(todo), len(submits.full_marks)),
            ("learners whose score arrived exactly once", len(todo), once),
            ("  score missing", 0, missing),
            ("  score accepted more than once", 0, twice),
            ("scores for learners who did not submit", 0, strays),
            ("scores on another line item", 0, other_items),
            ("accepted scores giving full marks", len(todo), full),
            (
                "platform errors (500) / refused auth requests",
                0,
                len(problems["errors"]) + len(problems["auth_refusals"]),
            ),
        ]
        table = Table(title="Checks", header_style="bold")
        for column in ("check", "expected", "got", ""):
            table.add_column(column, justify="left" if column == "check" else "right")
        passed = True
        for name, want, got in checks:
            ok = want == got
            passed &= ok
            table.add_row(name, f"{want:,}", f"{got:,}", "[green]ok[/]" if ok else "[red]FAIL[/]")
        console.print(table)
        for what, errors, examples in (
            ("launch", launches.errors, launches.examples),
            ("submit", submits.errors, submits.examples),
        ):
            if errors:
                console.print(f"[yellow]{what} errors[/]: {dict(errors)}")
                for example in examples:
                    console.print(f"  {example}", markup=False, highlight=False)
        for text in (problems["errors"] + problems["auth_refusals"])[:5]:
            console.print(f"  platform: {text[-300:]}", markup=False, highlight=False)
    finally:
        browsers.close()
        if platform is not None:
            platform.stop()
        if server is not None:
            server.stop()
        log_path = workdir / "serve.log"
        log = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
        noisy = [line for line in log if "warning" in line.lower() or "error" in line.lower()]
        console.print(f"server log: {len(log):,} lines, {len(noisy):,} warnings or errors")
        for line in noisy[:10]:
            console.print(f"  {line[:300]}", markup=False, highlight=False)
        if scratch:
            drop_scratch(args.postgres, scratch)
        shutil.rmtree(workdir, ignore_errors=True)
    console.print(f"whole run: {time.perf_counter() - started:.0f} s")
    if not passed:
        console.print("[bold red]FAIL[/]: see above")
        raise SystemExit(1)
    console.print(
        "[bold green]PASS[/]: every launch reached its attempt page, no error; every submitted score reached the "
        "platform's gradebook exactly once, full marks"
    )


if __name__ == "__main__":
    main()
