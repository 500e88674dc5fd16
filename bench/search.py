"""Benchmark: full-text search on a bank of 100,000 questions in 50 courses, against a plain
``LIKE`` scan of the same rows in the same run.

1. Setup, in-process, on a scratch database (PostgreSQL, or SQLite in a temporary directory):
   50 courses synced from Open edX block trees (4 topics x 5 subtopics x 2 units each),
   and 2,000 questions per course (100,000 in all; single choice, multiple response,
   ordering, matching, numeric), their words drawn from a Zipf-distributed vocabulary of
   6,000 (English mathematics and science words, Chichewa words, and rarer made-up terms),
   inserted in batches with the index kept by the database (generated ``tsvector`` columns
   with GIN indexes; FTS5 tables filled by triggers).
2. Queries (fixed seed): seven kinds x ``--per-kind``: a common word, a middling word, a
   rare word, two middling words (both required), a phrase of two words that occur side by
   side, ``rare or rare``, and a common word within one course. Each is run through
   :func:`eduvault.learning.search.selectors.search` (an operator's scope, questions only,
   20 hits ranked with snippets) and as the ``LIKE`` baseline: every word as
   ``%word%`` (case-insensitive) against the prompt or the question's other text, the first
   20 by id (no ranking, no snippet, no stemming). Two warm-up passes, then ``--rounds``
   measured passes in alternating order.
3. Also timed: the same queries over every type (content and questions), and the insert
   rate with the index kept.

    cd bench && ../.venv/bin/python search.py                 # PostgreSQL, then SQLite
    cd bench && ../.venv/bin/python search.py --database sqlite --questions 20000
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import DEFAULT_POSTGRES, drop_scratch, percentile, scratch_django
from rich.console import Console
from rich.table import Table

console = Console(width=170)

ENGLISH = """
angle area average axis bar base bisector boundary calculate capacity centre chord circle
circumference coefficient column cone congruent constant coordinate cosine cube cylinder data
decimal degree denominator density diagonal diameter difference digit direction distance
divide divisor edge equation equilateral equivalent estimate even evaluate expand expression
exponent face factor factorise formula fraction frequency function gradient graph height
hexagon hypotenuse identity image index inequality integer intercept interest interval inverse
isosceles kilogram kite length line linear litre locus mass matrix maximum mean measure
median metre midpoint minimum mode multiple multiply negative net numerator obtuse octagon
odd origin parabola parallel parallelogram pentagon percentage perimeter perpendicular pie
plane point polygon polynomial positive power prime prism probability product profit
proportion protractor pyramid quadrant quadratic quadrilateral quotient radius random range
rate ratio rectangle reflection remainder rhombus right root rotation round sample scale
sector segment sequence set shape side similar simplify simultaneous sine slope solve speed
sphere square statistics straight subtract sum surface symmetry table tangent term
tetrahedron theorem time total transformation translation trapezium tree triangle
trigonometry unit value variable vector velocity vertex volume weight width cell tissue organ
photosynthesis respiration enzyme nucleus membrane chlorophyll oxygen carbon dioxide energy
nutrient protein starch glucose digestion blood heart lung kidney bone muscle nerve brain
gene chromosome inheritance evolution species habitat ecosystem predator prey population
soil water rainfall climate erosion fertiliser maize cassava groundnut tobacco tea irrigation
force pressure friction current voltage resistance circuit magnet electricity wave sound
light lens mirror reflection refraction atom molecule element compound mixture acid alkali
salt metal reaction solution crystal temperature thermometer boiling melting evaporation
""".split()

CHICHEWA = """
madzi moto nthaka mbewu chimanga chinangwa mtedza fodya tiyi nyumba sukulu mphunzitsi
wophunzira buku cholembera tebulo mpando dzuwa mwezi nyenyezi mvula mphepo mtsinje nyanja
phiri mtengo maluwa zipatso nsomba nkhuku mbuzi ng'ombe galu mphaka mwana bambo mayi agogo
chiwerengero kuwerenga kulemba kuphunzira kuganiza kuyeza kugawa kuchulukitsa kuonjezera
kuchotsa gawo mzere bwalo makona atatu anayi asanu khumi zana chikwi
""".split()

QUESTION_TYPES = ("single_choice", "multiple_response", "ordering", "matching", "numeric")


class Words:
    """A vocabulary of ``size`` words, drawn with Zipf weights (rank r weighs 1 / r)."""

    def __init__(self, rng: random.Random, size: int = 6000) -> None:
        real = list(dict.fromkeys(ENGLISH + CHICHEWA))
        rng.shuffle(real)
        made_up = [f"{rng.choice(['ka', 'mi', 'zo', 'te', 'lu', 'pa'])}{n:04d}term" for n in range(size - len(real))]
        self.words = real + made_up
        weights = [1 / (r + 1) for r in range(len(self.words))]
        total = 0.0
        self.cumulative = []
        for w in weights:
            total += w
            self.cumulative.append(total)
        self.rng = rng

    def sample(self, n: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cumulative, k=n)

    def phrase(self, lo: int, hi: int) -> str:
        return " ".join(self.sample(self.rng.randint(lo, hi)))


def question_document(words: Words, rng: random.Random, qid: str) -> dict[str, Any]:
    kind = rng.choice(QUESTION_TYPES)
    base = {"id": qid, "type": kind, "prompt": words.phrase(10, 30) + "?", "explanation": words.phrase(8, 20) + "."}
    base["tags"] = list(dict.fromkeys(words.sample(2)))
    if kind == "single_choice":
        base["choices"] = [{"id": c, "text": words.phrase(2, 5), "correct": c == "a"} for c in "abcd"]
    elif kind == "multiple_response":
        base["choices"] = [{"id": c, "text": words.phrase(2, 5), "correct": c in "ab"} for c in "abcd"]
    elif kind == "ordering":
        base["items"] = [{"id": c, "text": words.phrase(1, 3)} for c in "abcd"]
    elif kind == "matching":
        base["prompts"] = [{"id": f"p{i}", "text": words.phrase(1, 3)} for i in range(3)]
        base["options"] = [{"id": f"o{i}", "text": words.phrase(1, 3)} for i in range(3)]
        base["pairs"] = {f"p{i}": f"o{i}" for i in range(3)}
    else:
        base["answer"] = rng.randint(1, 500)
    return base


def setup(courses: int, per_course: int, rng: random.Random) -> dict[str, Any]:
    from eduvault.cores.grading import parse_question, searchable_text
    from eduvault.integrations.openedx.simulator import SimulatedCourse
    from eduvault.learning.assessments.models import Question
    from eduvault.pipeline.content.models import Course
    from eduvault.pipeline.sync.services import course_sync_blocks

    words = Words(rng)
    started = time.perf_counter()
    keys = []
    for c in range(courses):
        sim = SimulatedCourse("MIE", f"S{c:02d}", "2026_T1", f"{words.phrase(2, 3).title()} {c}")
        subtopics = []
        for t in range(4):
            topic = sim.add(sim.root, "chapter", words.phrase(1, 3).title())
            for s in range(5):
                sub = sim.add(topic, "sequential", words.phrase(1, 4).title())
                subtopics.append(sub)
                for u in range(2):
                    unit = sim.add(sub, "vertical", words.phrase(2, 4).title())
                    sim.add(unit, "problem", words.phrase(2, 5).title(), weight=1.0)
        key = f"course-v1:MIE+S{c:02d}+2026_T1"
        course_sync_blocks(course_key=key, blocks=sim.blocks_response())
        keys.append((key, subtopics))
    synced = time.perf_counter() - started

    documents: list[tuple[int, str, dict[str, Any]]] = []
    ids = dict(Course.objects.values_list("key", "pk"))
    for key, subtopics in keys:
        for n in range(per_course):
            documents.append((ids[key], subtopics[n % len(subtopics)], question_document(words, rng, f"q{n:05d}")))
    started = time.perf_counter()
    rows = []
    for course_id, subtopic, document in documents:
        parsed = parse_question(document)
        rows.append(
            Question(
                course_id=course_id,
                subtopic=subtopic,
                key=document["id"],
                type=parsed.type,
                document=parsed.document,
                tags=list(parsed.tags),
                search_text=searchable_text(parsed),
            )
        )
    parsed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(0, len(rows), 2000):
        Question.objects.bulk_create(rows[i : i + 2000])
    inserted = time.perf_counter() - started
    return {
        "words": words,
        "course_ids": list(ids.values()),
        "documents": [d for _, _, d in documents],
        "synced_seconds": synced,
        "parse_seconds": parsed_seconds,
        "insert_seconds": inserted,
        "questions": len(rows),
    }


def queries(words: Words, documents: list[dict[str, Any]], course_ids: list[int], per_kind: int, rng: random.Random):
    vocabulary = words.words
    common, middling, rare = vocabulary[:40], vocabulary[200:1200], vocabulary[3000:]
    made: list[tuple[str, str, int | None]] = []
    for _ in range(per_kind):
        made.append(("common word", rng.choice(common), None))
        made.append(("middling word", rng.choice(middling), None))
        made.append(("rare word", rng.choice(rare), None))
        made.append(("two middling words", f"{rng.choice(middling)} {rng.choice(middling)}", None))
        prompt = rng.choice(documents)["prompt"].rstrip("?").split()
        i = rng.randrange(len(prompt) - 1)
        made.append(("phrase", f'"{prompt[i]} {prompt[i + 1]}"', None))
        made.append(("rare or rare", f"{rng.choice(rare)} or {rng.choice(rare)}", None))
        made.append(("common word, one course", rng.choice(common), rng.choice(course_ids)))
    return made


def like_sql(vendor: str, query: str, course_id: int | None) -> tuple[str, list[Any]]:
    """The plain scan: each word (or the phrase) as %word% against the prompt or the rest."""
    prompt = "q.document->>'prompt'" if vendor == "postgresql" else "json_extract(q.document, '$.prompt')"
    like = "ILIKE" if vendor == "postgresql" else "LIKE"
    params: list[Any] = []

    def one(term: str) -> str:
        params.extend([f"%{term}%", f"%{term}%"])
        return f"({prompt} {like} %s OR q.search_text {like} %s)"

    if query.startswith('"'):
        where = one(query.strip('"'))
    elif " or " in query:
        left, right = query.split(" or ")
        where = f"({one(left)} OR {one(right)})"
    else:
        where = " AND ".join(one(w) for w in query.split())
    sql = f"SELECT q.key FROM assessments_question q WHERE q.current AND q.archived_at IS NULL AND {where}"
    if course_id is not None:
        sql += " AND q.course_id = %s"
        params.append(course_id)
    return sql + " ORDER BY q.id LIMIT 20", params


def measure(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="bench-search-"))
    scratch = scratch_django(args.database, workdir, args.postgres, "bench_search")
    try:
        from django.db import connection

        from eduvault.learning.search.selectors import Caller, search
        from eduvault.pipeline.content.models import Course

        per_course = args.questions // args.courses
        console.print(f"[bold]{args.database}[/]: {args.courses} courses x {per_course} questions …")
        made = setup(args.courses, per_course, rng)
        keys = dict(Course.objects.values_list("pk", "key"))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE assessments_question")
                cursor.execute("VACUUM ANALYZE content_node")
                cursor.execute("SELECT pg_relation_size('assessments_question_search')")
                index_bytes = cursor.fetchone()[0]
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_question%'")
                index_bytes = cursor.fetchone()[0] or 0
        qs = queries(made["words"], made["documents"], made["course_ids"], args.per_kind, rng)
        timings: dict[tuple[str, str], list[float]] = {}
        found: dict[str, list[int]] = {}

        def run_fts(query: str, course_id: int | None, types: list[str]) -> int:
            course = keys[course_id] if course_id else None
            return len(search(query=query, caller=Caller(), course=course, types=types, limit=20))

        def run_like(query: str, course_id: int | None) -> int:
            sql, params = like_sql(connection.vendor, query, course_id)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return len(cursor.fetchall())

        for round_ in range(args.rounds + 2):
            order = list(qs) if round_ % 2 == 0 else list(reversed(qs))
            for kind, query, course_id in order:
                for method, call in (
                    ("search", lambda: run_fts(query, course_id, ["question"])),
                    ("like", lambda: run_like(query, course_id)),
                    ("search, every type", lambda: run_fts(query, course_id, ["content", "question"])),
                ):
                    started = time.perf_counter()
                    n = call()
                    elapsed = (time.perf_counter() - started) * 1000
                    if round_ >= 2:
                        timings.setdefault((kind, method), []).append(elapsed)
                        timings.setdefault(("all queries", method), []).append(elapsed)
                        if method != "search, every type":
                            found.setdefault(f"{kind}|{method}", []).append(n)

        table = Table(
            title=f"{args.database}: {made['questions']:,} questions, {args.courses} courses "
            f"({args.per_kind} queries of each kind x {args.rounds} rounds; ms)",
            title_justify="left",
        )
        for column in ("query", "search p50", "search p95", "LIKE p50", "LIKE p95", "p50 ratio", "p95 ratio",
                       "every type p50", "hits (search / LIKE)"):
            table.add_column(column, justify="right" if column != "query" else "left")
        kinds = list(dict.fromkeys(k for k, _, _ in qs)) + ["all queries"]
        for kind in kinds:
            s, like, every = timings[(kind, "search")], timings[(kind, "like")], timings[(kind, "search, every type")]
            hits = ""
            if kind != "all queries":
                a, b = found[f"{kind}|search"], found[f"{kind}|like"]
                hits = f"{sum(a) / len(a):.1f} / {sum(b) / len(b):.1f}"
            table.add_row(
                kind,
                f"{percentile(s, 50):.2f}",
                f"{percentile(s, 95):.2f}",
                f"{percentile(like, 50):.2f}",
                f"{percentile(like, 95):.2f}",
                f"{percentile(like, 50) / percentile(s, 50):.1f}x",
                f"{percentile(like, 95) / percentile(s, 95):.1f}x",
                f"{percentile(every, 50):.2f}",
                hits,
            )
        console.print(table)
        console.print(
            f"setup: {args.courses} courses synced in {made['synced_seconds']:.1f} s; "
            f"{made['questions']:,} questions inserted with the index kept in {made['insert_seconds']:.1f} s "
            f"({made['questions'] / made['insert_seconds']:,.0f}/s; parsing them took {made['parse_seconds']:.1f} s); "
            f"question index {index_bytes / 1e6:.1f} MB"
        )
    finally:
        if scratch:
            drop_scratch(args.postgres, scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("postgres", "sqlite", "both"), default="both")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", DEFAULT_POSTGRES))
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--courses", type=int, default=50)
    parser.add_argument("--per-kind", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    if args.database == "both":
        for database in ("postgres", "sqlite"):
            argv = [a for a in sys.argv[1:]]
            subprocess.run([sys.executable, __file__, *argv, "--database", database], check=True)
        return
    measure(args)


if __name__ == "__main__":
    main()
