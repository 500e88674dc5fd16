"""Benchmark: a course's community on Discourse, 2,000 learners enrolled and 2,000 badges
granted, against one API request per learner.

Setup (not timed): a scratch database; a Canvas simulator (in this process, throttle off)
with one course, one module and ``--learners`` (2,000) students with SIS ids; a person per
SIS id made beforehand, so ``course_sync`` links every student and brings active learner
enrollments. A Discourse simulator in a process of its own (as a forum would be) with its
default admin API limit ON (60 a minute, site-wide), a forum account per student whose
DiscourseConnect ``external_id`` is the Canvas user id, and a badge; registered as a source
with ``connect_ids`` = the Canvas source and ``per_minute`` 60, so Edu Vault's token bucket
paces as in production. ``--accounts linked`` (default): the forum accounts are linked to
their people beforehand (by ``identities_observe`` and the ``connect`` rule, as the forum's
``user_created`` webhooks would have done), so what is measured is the group and the badges.
``--accounts lookup``: nothing is linked; the members step finds the accounts itself (200
``/u/by-external`` lookups and the whole user list a step) and is asked again, its 15-minute
re-read gate cleared (what a reconcile does), until nobody waits: slow at 60 a minute.

1. Batched (Edu Vault's way, timed): ``community_add`` and ``deliveries_run`` until nothing is
   due (place, topics, members: ``PUT /groups/{id}/members.json`` 1,000 at a time); then a
   completion record for every learner (``record_local_change``, one transaction; windows set
   to 0 s so the badges are due at once) and ``deliveries_run`` until nothing is due (one mass
   award, ``POST /admin/badges/award/{id}``).
2. One request per learner (timed): a second, fresh simulator process, throttle OFF (at 60 a
   minute it would take over an hour); a ``DiscourseClient`` whose bucket does not pace;
   the group created, then one ``PUT /groups/{id}/members.json`` per learner, sent with the
   client's ``_call`` (``add_group_members`` would read the whole member list before each
   add), and one ``grant_badge`` (``POST /user_badges.json``) per learner.

Requests are counted by the simulators (their request logs). Both ways are checked: every
learner in the group, the badge held exactly once by each and by nobody else, no 429, every
delivery done. Exit status 1 when anything is not as expected.

    .venv/bin/python bench/community.py [--learners 2000] [--database sqlite|postgres]
        [--postgres URL] [--accounts linked|lookup] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import DEFAULT_POSTGRES, Helper, drop_scratch, scratch_django
from rich.console import Console
from rich.table import Table

console = Console() if sys.stdout.isatty() else Console(width=160)

CANVAS, FORUM = "school", "forum"
TOKEN, KEY, SECRET = "bench-canvas-token", "bench-forum-key", "bench-forum-secret"
BUDGET = 60  # Discourse's default max_admin_api_reqs_per_minute


# -- the database (as bench/records.py) ------------------------------------------------------------


def setup_django(database: str, workdir: Path, postgres: str) -> str:
    # Completions' badges due at once (the high window is 300 s by default).
    return scratch_django(
        database,
        workdir,
        postgres,
        "bench_community",
        EDUVAULT_HIGH_WINDOW_SECONDS="0",
        EDUVAULT_BACKGROUND_WINDOW_SECONDS="0",
    )


# -- the forum: a Discourse simulator in a process of its own ------------------------------------


def forum_process(conn: Any, external_ids: list[int], throttle: bool) -> None:
    from eduvault.integrations.discourse.simulator import DiscourseSimulator

    sim = DiscourseSimulator(api_keys={KEY: "system"}, per_minute=BUDGET, throttle_enabled=throttle).start()
    users = [
        sim.add_user(f"learner{i:05d}", email=f"learner{i:05d}@school.test", name=f"Learner {i}", external_id=str(ext))
        for i, ext in enumerate(external_ids)
    ]
    badge = sim.add_badge("Completed the bench course")
    conn.send({"base_url": sim.base_url, "badge": badge["id"], "users": [(u["id"], u["username"]) for u in users]})
    while True:
        command, argument = conn.recv()
        if command == "requests":
            conn.send([(r.method, r.path, r.status) for r in list(sim.requests)])
        elif command == "reset":
            sim.requests.clear()
            sim.limiter.reset()
            conn.send(None)
        elif command == "members":
            with sim.lock:
                group = sim.group_named(argument)
                conn.send(None if group is None else Counter(sim.users[u].username for u in group.members))
        elif command == "holders":
            with sim.lock:
                conn.send(
                    Counter(sim.users[ub.user_id].username for ub in sim.user_badges.values() if ub.badge_id == argument)
                )
        elif command == "errors":
            conn.send(list(sim.errors))
        elif command == "stop":
            sim.stop()
            conn.send(None)
            return


class Forum(Helper):
    def __init__(self, external_ids: list[int], *, throttle: bool) -> None:
        super().__init__(forum_process, external_ids, throttle)


def pattern(method: str, path: str) -> str:
    path = re.sub(r"/(t/external_id|u/by-external)/[^/]+", r"/\1/:ext", path)
    path = re.sub(r"/groups/(?!search)[^/.]+", "/groups/:group", path)
    return f"{method} {re.sub(r'/[0-9]+(?=[/.]|$)', '/:id', path)}"


def kind_of(method: str, path: str) -> str:
    if "/members.json" in path:
        return "members"
    if path.startswith(("/user_badges", "/admin/badges/award", "/user-badges")):
        return "badges"
    if path.startswith(("/u/by-external/", "/admin/users/list/")):
        return "accounts"
    return "other"


def tally(requests: list[tuple[str, str, int]]) -> dict[str, Any]:
    kinds = Counter(kind_of(m, p) for m, p, _ in requests)
    return {
        "total": len(requests),
        "kinds": kinds,
        "patterns": Counter(f"{pattern(m, p)} {s}" for m, p, s in requests),
        "429": sum(1 for *_, s in requests if s == 429),
    }


def check_forum(forum: Forum, way: str, group: str, usernames: list[str], badge: int) -> list[str]:
    problems = []
    members = forum.ask("members", group)
    if members is None:
        return [f"{way}: no group {group} in the forum"]
    if set(members) != set(usernames):
        problems.append(f"{way}: the group has {len(members)} members, {len(set(usernames) - set(members))} learners missing")
    holders = forum.ask("holders", badge)
    twice = sum(1 for n in holders.values() if n > 1)
    missing, others = set(usernames) - set(holders), set(holders) - set(usernames)
    if missing or twice or others:
        problems.append(f"{way}: badge missing for {len(missing)}, held twice by {twice}, held by {len(others)} others")
    errors = forum.ask("errors")
    if errors:
        problems.append(f"{way}: the simulator failed {len(errors)} requests: {errors[-1][-300:]}")
    return problems


# -- setup -----------------------------------------------------------------------------------------


def analyze() -> None:
    """Planner statistics for the tables just filled (autovacuum's job on a live database):
    without them PostgreSQL plans the identity matching as nested loops over 2,000 rows."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def setup(args: argparse.Namespace) -> tuple[Any, Any, Forum, list[Any], list[int]]:
    """Canvas (in-process), the course synced; the forum; returns (canvas sim, course, forum,
    people in learner order, Canvas user ids)."""
    from django.db import transaction

    from eduvault.identity.models import Person
    from eduvault.identity.people import Account, identities_observe
    from eduvault.integrations.canvas.simulator import CanvasSimulator
    from eduvault.integrations.services import source_add
    from eduvault.pipeline.content.models import Course
    from eduvault.pipeline.records.models import Enrollment
    from eduvault.pipeline.records.policies import current_policies
    from eduvault.pipeline.sync.services import course_sync

    canvas = CanvasSimulator(throttle_enabled=False).start()
    api_user = canvas.add_user("Edu Vault", login_id="eduvault-integration")
    canvas.add_token(TOKEN, user_id=api_user.id)
    course = canvas.add_course("Bench Community Course", "BENCH-COM", sis_course_id="2026-BENCH-COM")
    canvas.add_module(course.id, "Orientation")
    students = [
        canvas.add_user(f"Learner {i}", login_id=f"l{i:05d}", sis_user_id=f"S-{i:05d}") for i in range(args.learners)
    ]
    for student in students:
        canvas.enroll(course.id, student.id)
    Person.objects.bulk_create(
        [Person(name=f"Learner {i}", sis_id=f"S-{i:05d}") for i in range(args.learners)], batch_size=1000
    )
    source = source_add(platform="canvas", name=CANVAS, base_url=canvas.base_url, token=TOKEN)
    course_sync(course_key=f"{CANVAS}:{course.id}", source=source, actor="bench")
    home = Course.objects.get(key=f"{CANVAS}:{course.id}")
    analyze()
    by_sis = {p.sis_id: p for p in Person.objects.filter(sis_id__startswith="S-")}
    people = [by_sis[f"S-{i:05d}"] for i in range(args.learners)]
    learners = Enrollment.objects.filter(
        course=home, role=Enrollment.Role.LEARNER, state=Enrollment.State.ACTIVE, person__isnull=False
    ).count()
    if learners != args.learners:
        raise SystemExit(f"setup: {learners} active learner enrollments with a person, not {args.learners}")
    ids = [s.id for s in students]
    forum = Forum(ids, throttle=True)
    source_add(
        platform="discourse", name=FORUM, base_url=forum.info["base_url"], api_key=KEY, api_username="system",
        webhook_secret=SECRET, connect_ids=CANVAS, per_minute=str(BUDGET),
    )  # fmt: skip
    if args.accounts == "linked":
        accounts = [
            Account(external_id=str(fid), login=name, email=f"{name}@school.test", email_verified=True,
                    name=name, vouched=f"{CANVAS}:{ext}")
            for (fid, name), ext in zip(forum.info["users"], ids)
        ]  # fmt: skip
        with transaction.atomic():
            identities_observe(
                platform="discourse", realm=FORUM, accounts=accounts,
                rules=current_policies().match_for("discourse"), actor=FORUM,
            )  # fmt: skip
    analyze()
    return canvas, home, forum, people, ids


# -- the two ways ------------------------------------------------------------------------------------


def run_deliveries(owner: str, timeout: float) -> tuple[int, dict[str, int]]:
    """deliveries_run until nothing is pending or being sent; (passes, outcomes)."""
    from eduvault.pipeline.outbox.models import Delivery
    from eduvault.pipeline.outbox.services import deliveries_run

    totals: Counter[str] = Counter()
    passes, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        counts = deliveries_run(owner=owner)
        passes += 1
        totals.update(counts)
        if not counts:
            if not Delivery.objects.filter(status__in=("pending", "sending")).exists():
                break
            time.sleep(0.05)
    return passes, dict(totals)


def batched(args: argparse.Namespace, course: Any, forum: Forum, people: list[Any]) -> tuple[dict[str, Any], list[str]]:
    from django.db import transaction

    from eduvault.pipeline.communities.models import Community, CommunityGrant
    from eduvault.pipeline.communities.services import community_add, community_request
    from eduvault.pipeline.outbox.models import Delivery
    from eduvault.pipeline.records.services import record_local_change

    badge = forum.info["badge"]
    forum.ask("reset")
    out: dict[str, Any] = {"rounds": 1}
    t0 = time.perf_counter()
    community = community_add(
        course_key=course.key, source_name=FORUM, actor="bench", topic_kind="topic", completion_badge=badge
    )
    passes, outcomes = run_deliveries("bench-members", args.timeout)
    community.refresh_from_db()
    while args.accounts == "lookup" and community.waiting and out["rounds"] <= math.ceil(args.learners / 200) + 1:
        Community.objects.filter(pk=community.pk).update(accounts_read_at=None)  # what a reconcile does
        community_request(community=community, aspects=("members",), priority="critical", manual=True)
        more, _ = run_deliveries("bench-members", args.timeout)
        passes, out["rounds"] = passes + more, out["rounds"] + 1
        community.refresh_from_db()
    out["members_s"] = time.perf_counter() - t0
    out["members_passes"] = passes
    members_requests = forum.ask("requests")

    t0 = time.perf_counter()
    with transaction.atomic():
        written = sum(
            record_local_change(
                kind="completion", course=course, object="course", person=p, fields={"completed": True}, actor="bench"
            ).deliveries
            for p in people
        )
    out["write_s"] = time.perf_counter() - t0
    out["badge_deliveries"] = Delivery.objects.filter(channel="community", payload__aspect="badges").count() - 1
    out["deliveries_written"] = written
    t1 = time.perf_counter()
    out["badges_passes"], _ = run_deliveries("bench-badges", args.timeout)
    out["send_s"] = time.perf_counter() - t1
    out["badges_s"] = time.perf_counter() - t0
    requests = forum.ask("requests")
    out["all"], out["members"] = tally(requests), tally(members_requests)
    out["badges"] = tally(requests[len(members_requests) :])
    out["deliveries"] = Counter(
        f"{c} {s}" for c, s in Delivery.objects.values_list("channel", "status")
    )

    community.refresh_from_db()
    usernames = [name for _, name in forum.info["users"]]
    problems = check_forum(forum, "batched", community.group_name, usernames, badge)
    granted = CommunityGrant.objects.filter(community=community, state=CommunityGrant.State.GRANTED).count()
    if granted != len(people):
        problems.append(f"batched: {granted} grants recorded as granted, not {len(people)}")
    if community.waiting:
        problems.append(f"batched: {len(community.waiting)} learners still wait for a forum account")
    undone = Delivery.objects.filter(channel="community").exclude(status="done").count()
    if undone:
        problems.append(f"batched: {undone} community deliveries not done")
    if out["all"]["429"]:
        problems.append(f"batched: the forum answered 429 {out['all']['429']} times")
    out["group"] = community.group_name
    return out, problems


def one_by_one(ids: list[int], group_name: str, badge: int) -> tuple[dict[str, Any], list[str]]:
    from eduvault.integrations.discourse.client import DiscourseClient
    from eduvault.integrations.discourse.pacing import TokenBucket

    forum = Forum(ids, throttle=False)
    try:
        usernames = [name for _, name in forum.info["users"]]
        badge = forum.info["badge"]
        forum.ask("reset")
        client = DiscourseClient(forum.info["base_url"], KEY, "system", bucket=TokenBucket(10**9))
        out: dict[str, Any] = {}
        t0 = time.perf_counter()
        group = client.create_group(name=group_name, full_name="Bench Community Course")
        for name in usernames:  # one PUT each; add_group_members would read the members first
            client._call("PUT", f"/groups/{group['id']}/members.json", what=name, json={"usernames": name})
        out["members_s"] = time.perf_counter() - t0
        members_requests = forum.ask("requests")
        t0 = time.perf_counter()
        for name in usernames:
            client.grant_badge(username=name, badge_id=badge)
        out["badges_s"] = time.perf_counter() - t0
        client.close()
        requests = forum.ask("requests")
        out["all"], out["members"] = tally(requests), tally(members_requests)
        out["badges"] = tally(requests[len(members_requests) :])
        problems = check_forum(forum, "one by one", group_name, usernames, badge)
        if out["all"]["429"]:
            problems.append(f"one by one: the forum answered 429 {out['all']['429']} times")
    finally:
        forum.stop()
    return out, problems


# -- the report ----------------------------------------------------------------------------------------


def report(args: argparse.Namespace, b: dict[str, Any], o: dict[str, Any]) -> None:
    table = Table(
        title=(
            f"{args.learners:,} learners into a Discourse group and {args.learners:,} badges, on {args.database} "
            f"(accounts {args.accounts}); Discourse's admin API budget: {BUDGET} requests a minute"
        ),
        header_style="bold",
    )
    columns = ("way", "members", "badges", "accounts", "other", "requests", "429s",
               "members s", "badges s", "wall s", "budget min", "% of 1 h", "at 60/min")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "way" else "right")
    rows = [
        ("batched (Edu Vault)", b, b["members_s"] + b["badges_s"]),
        ("one per learner", o, o["members_s"] + o["badges_s"]),
    ]
    for way, r, wall in rows:
        k, n = r["all"]["kinds"], r["all"]["total"]
        table.add_row(
            way, f"{k['members']:,}", f"{k['badges']:,}", f"{k['accounts']:,}", f"{k['other']:,}", f"{n:,}",
            f"{r['all']['429']:,}", f"{r['members_s']:.2f}", f"{r['badges_s']:.2f}", f"{wall:.2f}",
            f"{n / BUDGET:,.2f}", f"{100 * n / (BUDGET * 60):,.2f} %", f"{n / BUDGET:,.1f} min",
        )  # fmt: skip
    bn, on = b["all"]["total"], o["all"]["total"]
    table.add_row(
        "one per learner ÷ batched", "", "", "", "", f"{on / max(bn, 1):,.0f}x", "", "", "", "", f"{on / max(bn, 1):,.0f}x", "", ""
    )
    console.print(table)
    console.print(
        "columns members/badges/accounts/other: API requests the forum received, by purpose. 'budget min' = requests / 60: "
        "minutes of Discourse's default admin API budget (60 a minute, site-wide) used; '% of 1 h' = requests / 3,600; "
        "'at 60/min' = requests / 60: the least wall time at that limit. Batched ran against the limit, paced by Edu Vault's "
        "token bucket (54 a minute after a burst of 6): its wall s is real ('badges s' includes writing the "
        "completion records with record_local_change). One per learner ran with the throttle OFF: at Discourse's default limit "
        "it would take the 'at 60/min' time."
    )
    console.print(
        "one request per learner: the PUTs are sent with DiscourseClient._call, exactly one per learner "
        "(add_group_members would read the whole member list before each add: ~N²/100 more GETs)."
    )
    for way, r in (("batched", b), ("one by one", o)):
        for phase in ("members", "badges"):
            kinds = ", ".join(f"{p} x{v:,}" for p, v in sorted(r[phase]["patterns"].items()))
            console.print(f"{way}, {phase} phase: {kinds or 'none'}")
    console.print(
        f"batched: members phase {b['members_passes']} deliveries_run passes"
        + (f", {b['rounds']} members rounds" if args.accounts == "lookup" else "")
        + f"; completions written in {b['write_s']:.2f} s ({b['deliveries_written']:,} deliveries enqueued, "
        f"{b['badge_deliveries']:,} 'badges' deliveries), sent in {b['send_s']:.2f} s over {b['badges_passes']} passes; "
        "deliveries: " + ", ".join(f"{k} {v:,}" for k, v in sorted(b["deliveries"].items()))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server for the scratch database")
    parser.add_argument("--accounts", choices=("linked", "lookup"), default="linked")
    parser.add_argument("--timeout", type=float, default=1800, help="for each delivery run, seconds")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="eduvault-bench-community-"))
    scratch, problems, forum, canvas = "", [], None, None
    started = time.perf_counter()
    try:
        scratch = setup_django(args.database, workdir, args.postgres)
        with console.status(f"setup: Canvas course of {args.learners:,}, forum accounts…"):
            canvas, course, forum, people, ids = setup(args)
        with console.status("batched: community_add, members, completions, badges…"):
            b, found = batched(args, course, forum, people)
        problems += found
        with console.status("one request per learner…"):
            o, found = one_by_one(ids, b["group"], forum.info["badge"])
        problems += found
        report(args, b, o)
    finally:
        if forum is not None:
            forum.stop()
        if canvas is not None:
            canvas.stop()
        if scratch:
            drop_scratch(args.postgres, scratch)
        shutil.rmtree(workdir, ignore_errors=True)
    console.print(f"whole run: {time.perf_counter() - started:.0f} s")
    if problems:
        for problem in problems:
            console.print(f"[red]FAIL[/red] {problem}")
        raise SystemExit(1)
    console.print("PASS: every learner in the group once, every badge held once, no 429, every delivery done")


if __name__ == "__main__":
    main()
