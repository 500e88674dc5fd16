"""Benchmark: learner records in from Canvas Live Events, and grades out to Canvas.

1. Ingest: ``--events`` (100,000) Canvas ``grade_change`` Live Events (the Canvas format,
   ``{"metadata": …, "body": …}``, bodies from the simulator's ``bodies.grade_change``) for one
   course, 50 assignments and 1,000 students: about two grade changes per student and
   assignment, 10% of events arriving late (often after their record's next change: stale
   when they land) and 3% delivered twice. Parsed with ``parse_live_event`` into
   ``RecordFacts`` (timed on its own), then applied with ``records_ingest`` (1,000 facts a
   transaction). By default the students' Canvas identities exist and are linked to people
   beforehand (``--people prelinked``), so matching is not what is measured; ``--people matched`` has only people with SIS ids, and
   every identity is created and matched by its SIS id on first sight, inside the ingest.
   Baseline, same run, same database: the same number of rows shaped like the audit rows,
   written with ``kernel.bulk.insert_rows`` into ``RecordChange``, 1,000 a transaction (and
   deleted again before the counts). Reported: facts/s, records/s, their ratio to the
   baseline's rows/s, the rows written, peak memory (``ru_maxrss``; ``--tracemalloc`` adds
   the Python heap's peak during the apply, which slows it down).
2. Deliveries: ``--deliveries`` (10,000) grades of Edu Vault assessments linked to Canvas
   assignments (``object_link_set``), 10 assessments x 1,000 learners, written with
   ``record_local_change`` (1,000 a transaction), then sent by ``deliveries_run`` until none is
   left, in three rounds, each changing the grades again:
   - batched: the ``records`` channel's 100 per claim, ``POST …/submissions/update_grades``
     and its Progress polled (``CanvasClient.wait_progress``), all of them;
   - one by one: ``RecordDeliveries.batch_size = 1`` for the round, ``PUT …/submissions/
     :user_id`` each; ``--one-by-one`` (1,000) of them, as it is slow: its time for all is
     projected from its rate (the "for N s" column, marked ~);
   - one by one, writer only: the same grades straight to one ``CanvasGrades`` writer (one
     HTTP client), one write a call, no outbox: the floor of one by one.
   The Canvas simulator runs in a process of its own (as Canvas would: its CPU is not this
   process's) with its throttle OFF for these; ``--throttled N`` adds batched and one by one
   rounds of N grades with Canvas's leaky bucket on (its defaults). Wall time, requests
   (counted by the simulator), and time inside the writer and its Progress polling (the
   rest is the outbox and records bookkeeping). Every grade is checked in Canvas.

Exit status 1 when any work was not done as expected (record counts or values, deliveries
not all delivered, grades missing in Canvas).

    .venv/bin/python bench/records.py [--events 100000] [--deliveries 10000]
        [--one-by-one 1000] [--database sqlite|postgres] [--people prelinked|matched] [--throttled 0]
        [--profile parse|ingest|local-changes|batched|one-by-one] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import os
import pstats
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import DEFAULT_POSTGRES, Helper, drop_scratch, scratch_django
from rich.console import Console
from rich.table import Table

#: Piped output gets a width that fits the tables (a terminal keeps its own).
console = Console() if sys.stdout.isatty() else Console(width=160)

SHARD = 2107
SOURCE_IN = "bench"  # the ingest's source (its Canvas is never reached)
SOURCE_OUT = "bench-canvas"  # the deliveries' source: the simulator
TOKEN = "bench-canvas-token"
COURSE_ID = 101
TEACHER_ID = 7
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


@contextmanager
def profiled(enabled: bool, title: str, top: int = 30):
    if not enabled:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(key).print_stats(top)
            console.print(f"[bold]cProfile of {title}, by {key}[/bold]")
            print(out.getvalue())


# -- the database ---------------------------------------------------------------------------------


def setup_django(database: str, workdir: Path, postgres: str) -> str:
    """Django on a scratch database of our own; returns the scratch database's name ('' for SQLite)."""
    return scratch_django(database, workdir, postgres, "bench_records")


def table_counts() -> dict[str, int]:
    from eduvault.identity.models import Identity, Person
    from eduvault.pipeline.feed.models import FeedEntry
    from eduvault.pipeline.outbox.models import Delivery, DeliveryAttempt
    from eduvault.pipeline.records.models import Record, RecordChange

    return {
        "records": Record.objects.count(),
        "audit rows (RecordChange)": RecordChange.objects.count(),
        "feed entries": FeedEntry.objects.count(),
        "deliveries": Delivery.objects.count(),
        "delivery attempts": DeliveryAttempt.objects.count(),
        "people": Person.objects.count(),
        "identities": Identity.objects.count(),
    }


# -- 1. ingest ------------------------------------------------------------------------------------


def gid(local: int) -> str:
    return str(SHARD * 10**13 + local)


def iso_ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def build_events(
    count: int, students: int, assignments: int, seed: int = 7
) -> tuple[list[dict[str, Any]], dict[tuple[int, int], float], dict[str, int]]:
    """``count`` grade_change events as Canvas sends them; the score each record must end
    with ({(assignment id, user id): score}); and what the stream holds (late, duplicates)."""
    from eduvault.integrations.canvas.simulator import bodies
    from eduvault.integrations.canvas.simulator.models import Assignment, Submission, User

    rng = random.Random(seed)
    users = [
        User(1000 + i, f"Student {i}", f"{i}, Student", f"Student {i}", f"s{i:05d}", f"S-{i:05d}")
        for i in range(students)
    ]
    points = (10.0, 20.0, 25.0, 50.0, 100.0)
    tasks = [
        Assignment(
            300 + a, COURSE_ID, f"Assignment {a + 1}", 170, a + 1, points_possible=points[a % len(points)]
        )
        for a in range(assignments)
    ]
    root_uuid = "bench" + "0" * 35
    duplicates = round(count * 0.03)
    distinct = count - duplicates
    pairs = students * assignments
    changes: list[tuple[datetime, dict[str, Any]]] = []
    expected: dict[tuple[int, int], tuple[datetime, float]] = {}
    submissions: dict[tuple[int, int], Submission] = {}
    for i in range(distinct):
        pair, round_ = i % pairs, i // pairs
        task, user = tasks[pair // students], users[pair % students]
        sub = submissions.get((task.id, user.id))
        if sub is None:
            sub = submissions[(task.id, user.id)] = Submission(9000 + pair, task.id, user.id)
        old_grade, old_score = sub.grade, sub.score
        score = float(rng.randint(0, int(task.points_possible or 0) * 2)) / 2
        # A day between a record's changes, spread over the day: the stream is in time order.
        at = T0 + timedelta(days=round_, seconds=rng.uniform(0, 86_000))
        sub.score, sub.grade = score, f"{score:g}"
        sub.grader_id, sub.workflow_state, sub.graded_at, sub.posted_at = TEACHER_ID, "graded", at, at
        body = bodies.grade_change(
            sub,
            task,
            user,
            old_grade=old_grade,
            old_score=old_score,
            old_points_possible=task.points_possible,
        )
        metadata = {
            "event_name": "grade_change",
            "event_time": iso_ms(at),
            "root_account_id": gid(1),
            "root_account_uuid": root_uuid,
            "root_account_lti_guid": f"{root_uuid}.canvas.bench",
            "producer": "canvas",
            "user_id": gid(TEACHER_ID),
            "user_login": "teacher",
            "user_sis_id": "T-1",
            "user_account_id": gid(1),
            "context_type": "Course",
            "context_id": gid(COURSE_ID),
            "context_account_id": gid(1),
            "context_sis_source_id": "2026-BENCH",
            "context_role": "TeacherEnrollment",
            "hostname": "canvas.bench",
            "request_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "http_method": "PUT",
            "url": f"https://canvas.bench/api/v1/courses/{COURSE_ID}/assignments/{task.id}/submissions/{user.id}",
            "user_agent": "Mozilla/5.0",
            "client_ip": "10.0.0.1",
        }
        changes.append((at, {"metadata": metadata, "body": body}))
        known = expected.get((task.id, user.id))
        if known is None or at > known[0]:
            expected[(task.id, user.id)] = (at, score)
    changes.sort(key=lambda c: c[0])
    # Delivery order: time order, but 10% of events arrive late (up to 60% of the stream
    # later: often after their record's next change) and 3% arrive twice, a little apart.
    order: list[tuple[float, dict[str, Any]]] = [(float(i), event) for i, (_, event) in enumerate(changes)]
    late = rng.sample(range(len(order)), round(len(order) * 0.10))
    for i in late:
        order[i] = (i + rng.uniform(1, 0.6 * len(order)), order[i][1])
    for i in rng.sample(range(len(order)), duplicates):
        order.append((order[i][0] + rng.uniform(1, 0.05 * len(order)), order[i][1]))
    order.sort(key=lambda o: o[0])
    stream = [event for _, event in order]
    return stream, {k: v for k, (_, v) in expected.items()}, {"late": len(late), "duplicates": duplicates}


def setup_ingest(students: int, assignments: int, people: str) -> Any:
    from eduvault.identity.models import Identity, Person
    from eduvault.integrations.services import source_add
    from eduvault.pipeline.content.models import Course

    source = source_add(platform="canvas", name=SOURCE_IN, base_url="http://127.0.0.1:9", token="x")
    Course.objects.create(
        key=f"{SOURCE_IN}:{COURSE_ID}", title="Bench course", source=source, platform="canvas"
    )
    made = Person.objects.bulk_create(
        [Person(name=f"Student {i}", sis_id=f"S-{i:05d}") for i in range(students)], batch_size=1000
    )
    if people == "prelinked":
        if made[0].pk is None:  # a database that does not return ids
            made = list(Person.objects.order_by("id"))
        Identity.objects.bulk_create(
            [
                Identity(
                    platform="canvas",
                    realm=SOURCE_IN,
                    external_id=str(1000 + i),
                    login=f"s{i:05d}",
                    sis_id=f"S-{i:05d}",
                    name=f"Student {i}",
                    person=p,
                    state=Identity.State.LINKED,
                    matched_by="sis_id",
                )
                for i, p in enumerate(made)
            ],
            batch_size=1000,
        )
    return source


def count_loads(model: Any) -> Any:
    """Count the rows of ``model`` loaded from the database from now on; returns a function
    that stops counting and says how many."""
    inherited = model.from_db.__func__  # Model.from_db: Record does not override it
    loads = [0]

    def from_db(cls, db, field_names, values):  # type: ignore[no-untyped-def]
        loads[0] += 1
        return inherited(cls, db, field_names, values)

    model.from_db = classmethod(from_db)

    def stop() -> int:
        del model.from_db
        return loads[0]

    return stop


def baseline_rows(record_ids: list[int], count: int) -> list[list[dict[str, Any]]]:
    """``count`` rows shaped like the ingest's audit rows, in batches of 1,000."""
    now = datetime.now(UTC).isoformat()
    rows = [
        {
            "record": record_ids[i % len(record_ids)],
            "field": "score",
            "before": float(i % 7),
            "after": float(i % 11),
            "value": float(i % 11),
            "outcome": "applied",
            "conflict": False,
            "replica": SOURCE_IN,
            "platform": "canvas",
            "actor": f"canvas user {TEACHER_ID}",
            "vector": {SOURCE_IN: 1 + i % 3},
            "source_time": (T0 + timedelta(seconds=i)).isoformat(),
            "cursor": None,
            "created_at": now,
        }
        for i in range(count)
    ]
    return [rows[i : i + 1000] for i in range(0, count, 1000)]


def measure_ingest(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    from django.db import connection, transaction

    from eduvault.integrations.base import RecordFacts
    from eduvault.integrations.canvas.events import parse_live_event
    from eduvault.kernel import bulk
    from eduvault.pipeline.records.models import Record, RecordChange
    from eduvault.pipeline.records.services import records_ingest

    problems: list[str] = []
    out: dict[str, Any] = {}
    students, assignments = args.students, args.assignments
    t0 = time.perf_counter()
    events, expected, stream = build_events(args.events, students, assignments)
    out["build"] = time.perf_counter() - t0
    out["stream"] = stream
    out["rss_events"] = maxrss_mb()
    source = setup_ingest(students, assignments, args.people)

    gc.collect()
    with profiled(args.profile == "parse", "parse_live_event → RecordFacts"):
        t0 = time.perf_counter()
        facts = []
        for event in events:
            for arrival in parse_live_event(event, source_name=SOURCE_IN):
                facts.extend(RecordFacts.from_json(item) for item in arrival.payload["records"])
        out["parse"] = time.perf_counter() - t0
    out["rss_parse"] = maxrss_mb()
    if len(facts) != len(events):
        problems.append(f"{len(events)} events parsed into {len(facts)} facts")
    del events

    before = table_counts()
    gc.collect()
    if args.tracemalloc:
        tracemalloc.start()
    loaded = count_loads(Record)
    with profiled(args.profile == "ingest", "records_ingest"):
        t0 = time.perf_counter()
        applied = records_ingest(source=source, facts=facts)
        out["apply"] = time.perf_counter() - t0
    out["loaded"] = loaded()
    if args.tracemalloc:
        out["heap_peak"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    out["rss_apply"] = maxrss_mb()
    after = table_counts()
    out["written"] = {k: after[k] - before[k] for k in after}
    out["applied"] = applied.counts()
    out["facts"] = len(facts)
    del facts

    # Every record there, once, with the newest change's score.
    records = list(
        Record.objects.filter(kind="grade", key__startswith=f"{SOURCE_IN}:").values_list(
            "object", "holder", "fields"
        )
    )
    out["records"] = len(records)
    if len(records) != len(expected):
        problems.append(
            f"ingest: {len(records)} grade records for {len(expected)} student x assignment pairs"
        )
    from eduvault.identity.models import Identity

    users = {
        f"p{pid}": int(ext)
        for ext, pid in Identity.objects.filter(realm=SOURCE_IN).values_list("external_id", "person_id")
    }
    wrong = 0
    for obj, holder, fields in records:
        want = expected.get((int(obj.split(":")[1]), users.get(holder, -1)))
        if want is None or fields.get("score") != want:
            wrong += 1
    if wrong:
        problems.append(f"ingest: {wrong} records do not hold their newest score")
    out["wrong"] = wrong

    # Baseline: the same number of rows, plain, into the same audit table.
    record_ids = [
        pk for pk in Record.objects.filter(key__startswith=f"{SOURCE_IN}:").values_list("id", flat=True)
    ]
    top = RecordChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
    batches = baseline_rows(record_ids, out["facts"])
    gc.collect()
    t0 = time.perf_counter()
    for batch in batches:
        with transaction.atomic():
            bulk.insert_rows(RecordChange, batch)
    out["baseline"] = time.perf_counter() - t0
    inserted = RecordChange.objects.filter(id__gt=top).count()
    if inserted != out["facts"]:
        problems.append(f"baseline: {inserted} rows inserted of {out['facts']}")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {RecordChange._meta.db_table} WHERE id > %s", [top])
    return out, problems


# -- 2. deliveries: the Canvas simulator, in a process of its own ---------------------------------


def simulator_process(conn: Any, students: int, assignments: int) -> None:
    """Serve a Canvas simulator with one course, ``students`` and ``assignments``; answer the
    parent's commands until told to stop."""
    from eduvault.integrations.canvas.simulator import CanvasSimulator

    sim = CanvasSimulator(throttle_enabled=False).start()
    api_user = sim.add_user("Edu Vault", login_id="eduvault-integration")
    sim.add_token(TOKEN, user_id=api_user.id)
    teacher = sim.add_user("Tess Banda", login_id="tess", sis_user_id="T-1")
    course = sim.add_course("Bench course", "BENCH", sis_course_id="2026-BENCH")
    sim.enroll(course.id, teacher.id, type="TeacherEnrollment")
    users = [
        sim.add_user(f"Learner {i}", login_id=f"l{i:05d}", sis_user_id=f"L-{i:05d}") for i in range(students)
    ]
    for user in users:
        sim.enroll(course.id, user.id)
    points = (10, 20, 25, 50, 100)
    tasks = [
        sim.add_assignment(course.id, f"Quiz {a + 1}", points_possible=points[a % len(points)])
        for a in range(assignments)
    ]
    conn.send(
        {
            "base_url": sim.base_url,
            "course": course.id,
            "users": [u.id for u in users],
            "assignments": [(t.id, t.points_possible) for t in tasks],
        }
    )
    sim.requests.clear()
    while True:
        command, argument = conn.recv()
        if command == "requests":
            kinds: Counter[str] = Counter()
            for r in sim.requests:
                if r.method == "PUT":
                    what = "PUT …/submissions/:user_id"
                elif r.path.endswith("/update_grades"):
                    what = "POST …/submissions/update_grades"
                elif "/progress/" in r.path:
                    what = "GET /progress/:id"
                else:
                    what = f"{r.method} {r.path}"
                kinds[f"{what} {r.status}"] += 1
            conn.send(dict(kinds))
        elif command == "reset":
            sim.requests.clear()
            sim.live_events.events.clear()
            conn.send(None)
        elif command == "throttle":
            sim.throttle.settings.enabled = bool(argument)
            sim.throttle.reset()
            conn.send(None)
        elif command == "scores":
            with sim.lock:
                conn.send({f"{a}:{u}": s.score for (a, u), s in course.submissions.items()})
        elif command == "cpu":
            conn.send(time.process_time())
        elif command == "errors":
            conn.send(list(sim.errors))
        elif command == "stop":
            sim.stop()
            conn.send(None)
            return


class Simulator(Helper):
    def __init__(self, students: int, assignments: int) -> None:
        super().__init__(simulator_process, students, assignments)


class Timers:
    """Time spent in the Canvas writer (HTTP included) and, inside it, in Progress polling."""

    def __init__(self) -> None:
        self.writer = 0.0
        self.polling = 0.0
        self.writes = 0

    def install(self) -> None:
        from eduvault.integrations.canvas.client import CanvasClient
        from eduvault.integrations.canvas.records import CanvasGrades

        write, wait = CanvasGrades.write, CanvasClient.wait_progress
        timers = self

        def timed_write(self, writes):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return write(self, writes)
            finally:
                timers.writer += time.perf_counter() - t0
                timers.writes += 1

        def timed_wait(self, *a, **k):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return wait(self, *a, **k)
            finally:
                timers.polling += time.perf_counter() - t0

        CanvasGrades.write, CanvasClient.wait_progress = timed_write, timed_wait

    def reset(self) -> None:
        self.writer = self.polling = 0.0
        self.writes = 0


def setup_deliveries(sim: Simulator, count: int) -> tuple[Any, list[tuple[Any, str, Any, float]]]:
    """The deliveries' source, an Edu Vault course with one assessment per Canvas assignment
    (linked to it), and a person per Canvas learner (their identity linked). Returns the
    course and the grades to write: (person, assessment object, canvas key, points)."""
    from eduvault.identity.models import Identity, Person
    from eduvault.integrations.services import source_add
    from eduvault.pipeline.content.models import Course
    from eduvault.pipeline.records.links import object_link_set

    info = sim.info
    source = source_add(platform="canvas", name=SOURCE_OUT, base_url=info["base_url"], token=TOKEN)
    course = Course.objects.create(
        key="course-v1:Bench+RECORDS+2026", title="Bench assessments", platform="openedx"
    )
    people = Person.objects.bulk_create([Person(name=f"Learner {i}") for i in range(len(info["users"]))])
    if people[0].pk is None:
        people = list(Person.objects.filter(name__startswith="Learner ").order_by("id"))
    Identity.objects.bulk_create(
        [
            Identity(
                platform="canvas",
                realm=SOURCE_OUT,
                external_id=str(uid),
                person=p,
                state=Identity.State.LINKED,
                matched_by="sis_id",
            )
            for uid, p in zip(info["users"], people)
        ]
    )
    grades = []
    for n, (assignment_id, points) in enumerate(info["assignments"]):
        obj = f"assessment:{n + 1}"
        object_link_set(
            source=source,
            course_id=str(info["course"]),
            assignment_id=str(assignment_id),
            home_course=course,
            home_object=obj,
            actor="bench",
        )
        for person, uid in zip(people, info["users"]):
            grades.append((person, obj, f"{assignment_id}:{uid}", float(points)))
    return course, grades[:count]


def write_grades(
    course: Any, grades: list[tuple[Any, str, str, float]], round_: int
) -> tuple[float, int, dict[str, float]]:
    """Each grade through record_local_change, 1,000 a transaction; (seconds, deliveries
    written, the score Canvas must end with by canvas key)."""
    from django.db import transaction

    from eduvault.pipeline.records.services import record_local_change

    expected = {}
    written = 0
    t0 = time.perf_counter()
    for i in range(0, len(grades), 1000):
        with transaction.atomic():
            for j, (person, obj, key, points) in enumerate(grades[i : i + 1000], start=i):
                score = float((j * 7 + round_ * 3) % 11)  # out of 10; each round differs
                applied = record_local_change(
                    kind="grade",
                    course=course,
                    object=obj,
                    person=person,
                    fields={"score": score, "max": 10.0},
                )
                written += applied.deliveries
                expected[key] = round(score * points / 10, 2)
    return time.perf_counter() - t0, written, expected


def run_deliveries(owner: str, timeout: float) -> tuple[float, int, dict[str, int]]:
    """deliveries_run until no delivery is pending or being sent; (seconds, passes, outcomes)."""
    from eduvault.pipeline.outbox.models import Delivery
    from eduvault.pipeline.outbox.services import deliveries_run

    totals: Counter[str] = Counter()
    passes = 0
    t0 = time.perf_counter()
    while True:
        counts = deliveries_run(owner=owner)
        passes += 1
        totals.update(counts)
        if not counts:
            if not Delivery.objects.filter(status__in=("pending", "sending")).exists():
                break
            if time.perf_counter() - t0 > timeout:
                break
            time.sleep(0.05)  # something is waiting (a retry, a target's quiet time)
    return time.perf_counter() - t0, passes, dict(totals)


def check_canvas(sim: Simulator, expected: dict[str, float], mode: str) -> tuple[int, list[str]]:
    """How many grades Canvas does not hold as expected, and what went wrong there."""
    problems = []
    scores = sim.ask("scores")
    wrong = sum(
        1 for key, want in expected.items() if scores.get(key) is None or abs(scores[key] - want) > 1e-6
    )
    if wrong:
        problems.append(f"{mode}: {wrong} of {len(expected)} grades are not in Canvas as written")
    errors = sim.ask("errors")
    if errors:
        problems.append(f"{mode}: the simulator failed {len(errors)} requests: {errors[-1][-300:]}")
    return wrong, problems


def measure_outbox(
    sim: Simulator,
    course: Any,
    grades: list[tuple[Any, str, str, float]],
    *,
    mode: str,
    round_: int,
    timers: Timers,
    profile: bool,
    profile_writes: bool,
    timeout: float,
) -> tuple[dict[str, Any], list[str]]:
    """Write the grades (record_local_change), then send them with deliveries_run: in the
    channel's batches, or one by one (batch size 1)."""
    from eduvault.pipeline.outbox.models import Delivery
    from eduvault.pipeline.records.deliveries import RecordDeliveries

    problems: list[str] = []
    first = Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with profiled(profile_writes, f"record_local_change, {mode}"):
        write_seconds, written, expected = write_grades(course, grades, round_)
    if written != len(grades):
        problems.append(f"{mode}: {written} deliveries written for {len(grades)} grades")
    sim.ask("reset")
    timers.reset()
    cpu0 = sim.ask("cpu")
    saved = RecordDeliveries.batch_size
    RecordDeliveries.batch_size = saved if mode == "batched" else 1
    try:
        with profiled(profile, f"deliveries, {mode}"):
            seconds, passes, outcomes = run_deliveries(f"bench-{round_}", timeout)
    finally:
        RecordDeliveries.batch_size = saved
    sim_cpu = sim.ask("cpu") - cpu0
    requests = sim.ask("requests")
    statuses = Counter(Delivery.objects.filter(id__gt=first).values_list("status", flat=True))
    if statuses.get("done", 0) != len(grades):
        problems.append(
            f"{mode}: {statuses.get('done', 0)} of {len(grades)} deliveries done ({dict(statuses)})"
        )
    _wrong, found = check_canvas(sim, expected, mode)
    return {
        "mode": mode,
        "grades": len(grades),
        "write": write_seconds,
        "seconds": seconds,
        "passes": passes,
        "outcomes": outcomes,
        "requests": requests,
        "request_count": sum(requests.values()),
        "writer": timers.writer,
        "writer_calls": timers.writes,
        "polling": timers.polling,
        "sim_cpu": sim_cpu,
    }, problems + found


def measure_writer(
    sim: Simulator, grades: list[tuple[Any, str, str, float]], *, round_: int, timers: Timers
) -> tuple[dict[str, Any], list[str]]:
    """The writer alone, one write a call: one CanvasGrades (one HTTP client), no outbox."""
    from eduvault.integrations.base import RecordWrite, records_writer
    from eduvault.integrations.models import Source
    from eduvault.pipeline.records.models import Record

    mode = "one by one, writer only"
    source = Source.objects.get(name=SOURCE_OUT)
    wanted = {(f"p{person.pk}", obj) for person, obj, _, _ in grades}
    records = {
        (r.holder, r.object): r
        for r in Record.objects.filter(kind="grade", home="eduvault", holder__in={h for h, _ in wanted})
    }
    writes, expected = [], {}
    for j, (person, obj, key, points) in enumerate(grades):
        record = records[(f"p{person.pk}", obj)]
        links = {**record.replicas[SOURCE_OUT]["links"], "user_id": key.split(":")[1]}
        score = float((j * 7 + round_ * 3) % 11)
        writes.append(
            RecordWrite(record_id=record.pk, kind="grade", links=links, fields={"score": score, "max": 10.0})
        )
        expected[key] = round(score * points / 10, 2)
    sim.ask("reset")
    timers.reset()
    cpu0 = sim.ask("cpu")
    failed = 0
    t0 = time.perf_counter()
    writer = records_writer(source)
    try:
        for write in writes:
            failed += sum(1 for w in writer.write([write]) if not w.ok)
    finally:
        writer.close()
    seconds = time.perf_counter() - t0
    sim_cpu = sim.ask("cpu") - cpu0
    requests = sim.ask("requests")
    problems = [f"{mode}: {failed} writes failed"] if failed else []
    _wrong, found = check_canvas(sim, expected, mode)
    return {
        "mode": mode,
        "grades": len(grades),
        "write": 0.0,
        "seconds": seconds,
        "passes": 0,
        "outcomes": {"written": len(writes) - failed, **({"failed": failed} if failed else {})},
        "requests": requests,
        "request_count": sum(requests.values()),
        "writer": timers.writer,
        "writer_calls": timers.writes,
        "polling": timers.polling,
        "sim_cpu": sim_cpu,
    }, problems + found


def measure_deliveries(args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[str]]:
    count = args.deliveries
    single = min(count, args.one_by_one or count)
    assignments = 10 if count >= 1000 else max(1, count // 100)
    students = math.ceil(count / assignments)
    problems: list[str] = []
    results = []
    timers = Timers()
    timers.install()
    sim = Simulator(students, assignments)
    try:
        course, grades = setup_deliveries(sim, count)
        phases = [
            ("batched", count, False),
            ("one by one", single, False),
            ("one by one, writer only", single, False),
        ]
        if args.throttled:
            n = min(count, args.throttled)
            phases += [("batched", n, True), ("one by one", n, True)]
        for round_, (mode, n, throttled) in enumerate(phases, start=1):
            sim.ask("throttle", throttled)
            if mode == "one by one, writer only":
                result, found = measure_writer(sim, grades[:n], round_=round_, timers=timers)
            else:
                result, found = measure_outbox(
                    sim,
                    course,
                    grades[:n],
                    mode=mode,
                    round_=round_,
                    timers=timers,
                    profile=args.profile == mode.replace(" ", "-") and not throttled,
                    profile_writes=args.profile == "local-changes" and round_ == 1,
                    timeout=args.timeout,
                )
            result["throttled"] = throttled
            results.append(result)
            problems += found
    finally:
        sim.stop()
    return results, problems


# -- the report -----------------------------------------------------------------------------------


def rate(n: float, seconds: float) -> str:
    return f"{n / seconds:,.0f}" if seconds > 0 else "-"


def report_ingest(out: dict[str, Any], args: argparse.Namespace) -> None:
    facts, records = out["facts"], out["records"]
    base_rate = facts / out["baseline"]
    table = Table(
        title=(
            f"Ingest on {args.database}: {facts:,} grade_change events, 1 course, {args.assignments} assignments, "
            f"{args.students:,} students ({out['stream']['late']:,} late, {out['stream']['duplicates']:,} duplicated; "
            f"people {args.people})"
        ),
        header_style="bold",
    )
    for column in ("step", "items", "seconds", "per second", "vs baseline rate"):
        table.add_column(column, justify="left" if column == "step" else "right")
    table.add_row("build the events (not measured)", f"{facts:,}", f"{out['build']:.2f}", "", "")
    table.add_row(
        "parse: parse_live_event → RecordFacts",
        f"{facts:,} events",
        f"{out['parse']:.2f}",
        rate(facts, out["parse"]),
        "",
    )
    table.add_row(
        "apply: records_ingest (1,000 a transaction)",
        f"{facts:,} facts",
        f"{out['apply']:.2f}",
        rate(facts, out["apply"]),
        f"{facts / out['apply'] / base_rate:.2f}",
    )
    table.add_row(
        "  the same, per distinct record",
        f"{records:,} records",
        "",
        rate(records, out["apply"]),
        "",
    )
    total = out["parse"] + out["apply"]
    table.add_row(
        "parse + apply",
        f"{facts:,} facts",
        f"{total:.2f}",
        rate(facts, total),
        f"{facts / total / base_rate:.2f}",
    )
    table.add_row(
        "baseline: insert_rows into RecordChange (1,000 a transaction)",
        f"{facts:,} rows",
        f"{out['baseline']:.2f}",
        f"{base_rate:,.0f}",
        "1.00",
    )
    console.print(table)
    console.print(
        f"apply takes {out['apply'] / out['baseline']:.1f}x the time of plain INSERTs of as many rows "
        f"(parse + apply: {total / out['baseline']:.1f}x)"
    )
    written = ", ".join(f"{k} {v:,}" for k, v in out["written"].items() if v)
    console.print(f"rows written by the apply: {written}")
    console.print("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in out["applied"].items()))
    console.print(
        f"Record rows loaded by the apply: {out['loaded']:,} ({out['loaded'] / facts:.1f} a fact, "
        f"{out['loaded'] / records:.1f} a distinct record)"
    )
    memory = (
        f"peak RSS: {out['rss_events']:,.0f} MB after building the events, {out['rss_parse']:,.0f} MB after "
        f"parsing, {out['rss_apply']:,.0f} MB after applying"
    )
    if "heap_peak" in out:
        memory += f"; Python heap peak during the apply (tracemalloc): {out['heap_peak']:,.0f} MB"
    console.print(memory)


def report_deliveries(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    table = Table(
        title=(
            f"Grades to Canvas on {args.database}: written with record_local_change, sent by deliveries_run "
            "until none is left (Canvas simulator in its own process)"
        ),
        header_style="bold",
    )
    columns = (
        "mode",
        "grades",
        "requests",
        "req/grade",
        "wall s",
        "grades/s",
        "vs batched",
        "writer s",
        "polling s",
        "Canvas CPU s",
        f"for {args.deliveries:,} s",
        "local changes/s",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "mode" else "right")
    batched = {r["throttled"]: r for r in results if r["mode"] == "batched"}
    for r in results:
        base = batched.get(r["throttled"])
        per_grade = r["seconds"] / r["grades"]
        table.add_row(
            r["mode"] + (" (throttle on)" if r["throttled"] else ""),
            f"{r['grades']:,}",
            f"{r['request_count']:,}",
            f"{r['request_count'] / r['grades']:.2f}",
            f"{r['seconds']:.2f}",
            rate(r["grades"], r["seconds"]),
            f"{(base['seconds'] / base['grades']) / per_grade:.3f}" if base else "",
            f"{r['writer']:.2f}",
            f"{r['polling']:.2f}",
            f"{r['sim_cpu']:.2f}",
            ("" if r["grades"] == args.deliveries else "~") + f"{per_grade * args.deliveries:,.0f}",
            rate(r["grades"], r["write"]) if r["write"] else "",
        )
    console.print(table)
    for r in results:
        kinds = ", ".join(f"{k} x{v:,}" for k, v in sorted(r["requests"].items()))
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(r["outcomes"].items()))
        passes = f"{r['passes']:,} deliveries_run passes, " if r["passes"] else ""
        console.print(
            f"{r['mode']}, throttle {'on' if r['throttled'] else 'off'}: {kinds}; "
            f"{passes}{r['writer_calls']:,} writer calls; {outcomes}"
        )
    for throttled in (False, True):
        pair = {r["mode"]: r for r in results if r["throttled"] == throttled}
        if "batched" in pair and "one by one" in pair:
            b, o = pair["batched"], pair["one by one"]
            ratio = (o["seconds"] / o["grades"]) / (b["seconds"] / b["grades"])
            console.print(
                f"throttle {'on' if throttled else 'off'}: one by one through the outbox takes {ratio:.1f}x the "
                f"batched time per grade, with {o['request_count'] / o['grades'] / max(1e-9, b['request_count'] / b['grades']):.0f}x "
                "the requests per grade"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--assignments", type=int, default=50)
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server for the scratch database")
    parser.add_argument("--people", choices=("prelinked", "matched"), default="prelinked")
    parser.add_argument(
        "--one-by-one", type=int, default=1000, help="grades sent one by one (0: as many as --deliveries)"
    )
    parser.add_argument("--throttled", type=int, default=0, help="also N deliveries each way, throttle on")
    parser.add_argument("--profile", choices=("parse", "ingest", "local-changes", "batched", "one-by-one"))
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--timeout", type=float, default=600, help="for each delivery run, seconds")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="eduvault-bench-records-"))
    scratch = ""
    problems: list[str] = []
    started = time.perf_counter()
    try:
        scratch = setup_django(args.database, workdir, args.postgres)
        ingest: dict[str, Any] | None = None
        if args.events:
            with console.status(f"ingest: {args.events:,} Live Events…"):
                ingest, found = measure_ingest(args)
            problems += found
        deliveries: list[dict[str, Any]] = []
        if args.deliveries:
            with console.status(f"deliveries: {args.deliveries:,} grades each way…"):
                deliveries, found = measure_deliveries(args)
            problems += found
        if ingest:
            report_ingest(ingest, args)
        if deliveries:
            report_deliveries(deliveries, args)
        console.print(
            "rows in the database at the end: " + ", ".join(f"{k} {v:,}" for k, v in table_counts().items())
        )
    finally:
        if scratch:
            drop_scratch(args.postgres, scratch)
        shutil.rmtree(workdir, ignore_errors=True)
    console.print(f"whole run: {time.perf_counter() - started:.0f} s, peak RSS {maxrss_mb():,.0f} MB")
    if problems:
        for problem in problems:
            console.print(f"[red]FAIL[/red] {problem}")
        raise SystemExit(1)
    console.print("PASS: every record, audit row, delivery and grade as expected")


if __name__ == "__main__":
    main()
