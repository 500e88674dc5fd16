"""Benchmark: the diff engine against parsing, and the apply on PostgreSQL.

For synthetic Open edX Course Blocks API responses of 1,000, 10,000 and 100,000 blocks, and
the same course after 1% renames, 1% moves across parents, one deleted and one added subtree:

- parse: both documents with the standard library's ``json`` (the baseline),
- normalize: both documents into canonical trees (validation and content hashes included),
- diff: the change set between the two trees (subtree hashes of both included),
- and the ratios to the parse, measured in the same run (best of ``--repeat``).

With PostgreSQL reachable (``--postgres URL``, default the local test server), it also
applies the course from empty and then the change set in a scratch database, reporting the
time and the statements issued by each (savepoints excluded) by kind.

    python bench/diff.py [--sizes 1000,10000,100000] [--repeat 3] [--postgres URL | --no-db]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rich.console import Console
from rich.table import Table

from eduvault.cores.coursetree import count_ops, diff
from eduvault.integrations.openedx.normalize import normalize_blocks
from eduvault.integrations.openedx.simulator.synthetic import author_edits, synthetic_course

console = Console()


def measure_engine(size: int, repeat: int) -> dict:
    course = synthetic_course(size)
    edited = author_edits(course)
    # The documents as they arrive from the platform or a file: bytes.
    old_doc, new_doc = (
        json.dumps(course.blocks_response()).encode(),
        json.dumps(edited.blocks_response()).encode(),
    )

    # Parse, normalize and diff back to back in each round, so the three share the machine's
    # state of the moment; the ratios are taken per round, and their median reported.
    rounds = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        old_json, new_json = json.loads(old_doc), json.loads(new_doc)
        t1 = time.perf_counter()
        old_tree, new_tree = normalize_blocks(old_json), normalize_blocks(new_json)
        t2 = time.perf_counter()
        changes = diff(old_tree, new_tree)  # subtree hashes of both trees computed in here
        t3 = time.perf_counter()
        rounds.append((t1 - t0, t2 - t1, t3 - t2))
        del old_json, new_json, old_tree, new_tree
    parse, normalize, diffing = (statistics.median(r[i] for r in rounds) for i in range(3))
    return {
        "size": len(course.blocks),
        "mb": (len(old_doc) + len(new_doc)) / 1e6,
        "parse": parse,
        "normalize": normalize,
        "diff": diffing,
        "changes": count_ops(changes),
        "ratio": statistics.median((n + d) / p for p, n, d in rounds),
        "diff_ratio": statistics.median(d / p for p, n, d in rounds),
        "course": course,
        "edited": edited,
    }


def setup_database(url: str) -> None:
    """A scratch database next to ``url``, migrated, with Django set up on it."""
    import psycopg

    parts = urlsplit(url)
    scratch = "eduvault_bench"
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {scratch}")
    admin.close()
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{scratch}"))
    os.environ.setdefault("EDUVAULT_DATA_DIR", "/tmp/eduvault-bench")
    os.environ.setdefault("EDUVAULT_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "eduvault.config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def measure_apply(result: dict) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from eduvault.pipeline.sync.services import course_sync_blocks

    course, edited = result["course"], result["edited"]
    out = {}
    for label, blocks in (("from empty", course.blocks_response()), ("change set", edited.blocks_response())):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            run = course_sync_blocks(course_key=course.course_key, blocks=blocks)
            elapsed = time.perf_counter() - t0
        assert run.outcome == "applied", run.error
        statements = Counter()
        for query in ctx.captured_queries:
            sql = query["sql"]
            if "SAVEPOINT" in sql or sql.split(None, 1)[0].upper() in ("BEGIN", "COMMIT"):
                continue
            table = re.search(r'(?:COPY|FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
            verb = sql.split(None, 1)[0].upper().replace("COPY", "INSERT")  # COPY … FROM STDIN inserts
            name = table.group(1).split("_", 1)[-1] if table else "?"
            statements[f"{verb.lower()} {name}"] += 1
        out[label] = {"seconds": elapsed, "queries": sum(statements.values()), "by_kind": statements}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-db", action="store_true", help="skip the PostgreSQL apply")
    args = parser.parse_args()

    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    with console.status("measuring…") as status:
        for size in sizes:
            status.update(f"diff engine, {size:,} blocks")
            results.append(measure_engine(size, args.repeat))

    table = Table(title=f"Diff engine vs. json parse (medians of {args.repeat} rounds)", header_style="bold")
    for column in (
        "blocks",
        "JSON MB",
        "parse s",
        "normalize s",
        "diff s",
        "diff/parse",
        "(norm+diff)/parse",
        "changes",
    ):
        table.add_column(column, justify="right")
    for r in results:
        changes = " ".join(f"{op[0]}{n}" for op, n in r["changes"].items())
        table.add_row(
            f"{r['size']:,}",
            f"{r['mb']:.1f}",
            f"{r['parse']:.3f}",
            f"{r['normalize']:.3f}",
            f"{r['diff']:.3f}",
            f"{r['diff_ratio']:.2f}",
            f"{r['ratio']:.2f}",
            changes,
        )
    console.print(table)
    biggest = results[-1]
    ratio = biggest["ratio"]
    verdict = "meets" if ratio <= 1.0 else "MISSES"
    console.print(
        f"target: at {biggest['size']:,} blocks normalize + diff ≤ parse: {ratio:.2f} × parse, {verdict} it"
    )

    if args.no_db:
        return
    from tests.services import reachable  # the same probe the test suite uses

    if not reachable(args.postgres):
        console.print(f"PostgreSQL not reachable at {args.postgres}: apply not measured")
        return
    setup_database(args.postgres)
    table = Table(
        title="Apply on PostgreSQL (one transaction each; statements besides BEGIN/COMMIT)",
        header_style="bold",
    )
    for column in ("blocks", "apply", "seconds", "statements", "by kind"):
        table.add_column(column, justify="right" if column != "by kind" else "left")
    for r in results:
        status_text = f"apply, {r['size']:,} blocks"
        with console.status(status_text):
            applied = measure_apply(r)
        for label, a in applied.items():
            kinds = ", ".join(f"{k}{'' if n == 1 else f' ×{n}'}" for k, n in sorted(a["by_kind"].items()))
            table.add_row(f"{r['size']:,}", label, f"{a['seconds']:.3f}", str(a["queries"]), kinds)
    console.print(table)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
