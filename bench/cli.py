"""Benchmark: the command line as a whole process, against reading its input with ``json``.

Side by side, in one run, alternating so that both see the machine in the same state:

- ``eduvault --help``, against an empty Python process (the floor), target < 0.3 s;
- ``eduvault diff OLD NEW`` on the 100,000-block pair of ``bench/diff.py`` (1% renames, 1%
  moves, a subtree deleted and one added), printing its change set to /dev/null, against a
  Python process that reads the same two files with the standard library's ``json``: target
  at most 1.5 times that.

    python bench/cli.py [--size 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rich.console import Console
from rich.table import Table

from eduvault.integrations.openedx.simulator.synthetic import author_edits, synthetic_course

console = Console()
PYTHON = sys.executable


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        course = synthetic_course(args.size)
        old, new = Path(tmp) / "old.json", Path(tmp) / "new.json"
        old.write_text(json.dumps(course.blocks_response()))
        new.write_text(json.dumps(author_edits(course).blocks_response()))
        megabytes = (old.stat().st_size + new.stat().st_size) / 1e6
        eduvault = [PYTHON, "-m", "eduvault"]
        commands = {
            "python (empty)": [PYTHON, "-c", "pass"],
            "eduvault --help": [*eduvault, "--help"],
            "python: json.load of both files": [
                PYTHON,
                "-c",
                f"import json\nfor p in ({str(old)!r}, {str(new)!r}):\n    json.load(open(p, 'rb'))",
            ],
            "eduvault diff OLD NEW": [*eduvault, "diff", str(old), str(new)],
        }
        for argv in commands.values():  # warm the file cache and the bytecode
            timed(argv)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, argv in commands.items():
                times[name].append(timed(argv))

    median = {name: statistics.median(values) for name, values in times.items()}
    table = Table(
        title=f"Whole processes, medians of {args.repeat} (input: {args.size:,} blocks, {megabytes:.0f} MB)"
    )
    for column in ("command", "seconds", "ratio", "target"):
        table.add_column(column, justify="left" if column == "command" else "right")
    help_ratio = median["eduvault --help"] / median["python (empty)"]
    diff_ratio = median["eduvault diff OLD NEW"] / median["python: json.load of both files"]
    table.add_row("python (empty)", f"{median['python (empty)']:.3f}", "1.00", "")
    table.add_row(
        "eduvault --help",
        f"{median['eduvault --help']:.3f}",
        f"{help_ratio:.2f}",
        "< 0.3 s " + ("met" if median["eduvault --help"] < 0.3 else "MISSED"),
    )
    table.add_row(
        "python: json.load of both files", f"{median['python: json.load of both files']:.3f}", "1.00", ""
    )
    table.add_row(
        "eduvault diff OLD NEW",
        f"{median['eduvault diff OLD NEW']:.3f}",
        f"{diff_ratio:.2f}",
        "≤ 1.5 × json " + ("met" if diff_ratio <= 1.5 else "MISSED"),
    )
    console.print(table)


if __name__ == "__main__":
    main()
