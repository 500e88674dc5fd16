"""A separate process that syncs courses, for the kill and concurrency tests.

    python -m tests.pipeline.sync.sync_worker apply KEY FILE [--hang-in-apply SIGNAL_FILE]
    python -m tests.pipeline.sync.sync_worker loop KEY FILE [FILE ...] --rounds N

Uses the database named by DATABASE_URL (the test run's database).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eduvault.config.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    apply = sub.add_parser("apply")
    apply.add_argument("key")
    apply.add_argument("file")
    apply.add_argument("--hang-in-apply", metavar="SIGNAL_FILE")
    loop = sub.add_parser("loop")
    loop.add_argument("key")
    loop.add_argument("files", nargs="+")
    loop.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from eduvault.pipeline.sync import subscriptions
    from eduvault.pipeline.sync.services import course_sync_blocks

    if args.mode == "apply":
        if args.hang_in_apply:
            signal_file = Path(args.hang_in_apply)

            @subscriptions.subscribe()
            def hang(*, course, run, changes):
                # Every change is written but not committed: tell the test, then wait to be killed.
                signal_file.write_text(json.dumps({"run": run.pk, "changes": len(changes)}))
                time.sleep(600)

        run = course_sync_blocks(
            course_key=args.key, blocks=json.loads(Path(args.file).read_text()), detail={"file": args.file}
        )
        print(json.dumps({"outcome": run.outcome, "version": run.version_after}))
        return

    for _ in range(args.rounds):
        for file in args.files:
            run = course_sync_blocks(
                course_key=args.key, blocks=json.loads(Path(file).read_text()), detail={"file": file}
            )
            print(
                json.dumps({"run": run.pk, "outcome": run.outcome, "version": run.version_after}), flush=True
            )


if __name__ == "__main__":
    sys.exit(main())
