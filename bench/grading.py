"""Benchmark: the worst a question's patterns can cost a grade, against an ordinary grade.

Author patterns run on RE2 (``eduvault.cores.grading.patterns``): matching takes time linear in the
answer's length times the pattern's compiled size, and both are bounded (answers: 1,000
characters; a pattern: 2,000 instructions; a question's patterns: 20,000 together). This
measures, in one run:

- baseline: grading an ordinary text answer (a value and a short regex), per grade;
- worst case: a ``fill_blanks`` question whose patterns use the whole budget with the slowest
  shapes RE2 has (nested repetitions that defeat its DFA cache), every blank answered with
  1,000 characters built to nearly match: per grade, and its ratio to the baseline;
- the catastrophic pattern of the report, ``(a+)+$`` against ``a`` x n followed by ``!``:
  Python's backtracking ``re`` for growing n (doubling per character), and RE2 at n = 999.

    python bench/grading.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rich.console import Console
from rich.table import Table

from eduvault.cores.grading import grade_try, parse_question
from eduvault.cores.grading.patterns import MAX_PROGRAM_SIZE, MAX_QUESTION_PROGRAM_SIZE, compiled
from eduvault.cores.grading.text_input import MAX_ANSWER_LENGTH

console = Console()

#: Shapes that are slow for RE2 (many simultaneous NFA states), sized near the per-pattern limit.
SLOW_SHAPES = [r"(\w+\s?){1,%d}$", r"((a|b|ab|ba)+c?){1,%d}$", r"([a-z]+[0-9]?){1,%d}!$"]


def _largest(shape: str) -> str:
    """The shape with the largest repetition count that stays within the per-pattern limit."""
    low, high = 1, 1000
    while low < high:
        mid = (low + high + 1) // 2
        try:
            compiled(shape % mid, False)
            low = mid
        except ValueError:
            high = mid - 1
    return shape % low


def worst_question() -> tuple[dict, dict, int]:
    patterns, total = [], 0
    shapes = [_largest(s) for s in SLOW_SHAPES]
    while True:
        pattern = shapes[len(patterns) % len(shapes)] + "x" * (len(patterns) // len(shapes))
        size = compiled(pattern, False).programsize
        if total + size > MAX_QUESTION_PROGRAM_SIZE:
            break
        patterns.append(pattern)
        total += size
    blanks = [{"id": f"b{i}", "answers": [{"value": "never"}, {"regex": p}]} for i, p in enumerate(patterns)]
    document = {
        "type": "fill_blanks",
        "prompt": " ".join(f"[[b{i}]]" for i in range(len(blanks))),
        "blanks": blanks,
    }
    answer = {f"b{i}": _slowest_answer(p) for i, p in enumerate(patterns)}
    return document, answer, total


#: Answers of the longest length built to nearly match the slow shapes.
NEAR_MISSES = [
    "a" * (MAX_ANSWER_LENGTH - 1) + "!",
    ("a " * MAX_ANSWER_LENGTH)[: MAX_ANSWER_LENGTH - 1] + "!",
    ("ab" * MAX_ANSWER_LENGTH)[: MAX_ANSWER_LENGTH - 1] + "#",
    ("abc" * MAX_ANSWER_LENGTH)[: MAX_ANSWER_LENGTH - 1] + "#",
    ("a1" * MAX_ANSWER_LENGTH)[: MAX_ANSWER_LENGTH - 1] + "#",
]


def _slowest_answer(pattern: str) -> str:
    program = compiled(pattern, False)

    def cost(text: str) -> float:
        started = time.perf_counter()
        for _ in range(3):
            program.fullmatch(text)
        return time.perf_counter() - started

    return max(NEAR_MISSES, key=cost)


def per_call(fn, repeat: int, inner: int) -> float:
    best = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(inner):
            fn()
        best.append((time.perf_counter() - started) / inner)
    return statistics.median(best)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    ordinary = parse_question(
        {
            "type": "text_input",
            "prompt": "What is the capital of France?",
            "answers": [{"value": "Paris"}, {"regex": "(the )?capital of france"}],
        }
    )
    baseline = per_call(lambda: grade_try(ordinary, "the capital of France", try_number=1), args.repeat, 2000)

    document, answer, size = worst_question()
    worst = parse_question(document)
    colds = []
    for _ in range(args.repeat):  # the first grade in a process: patterns compiled, caches cold
        compiled.cache_clear()
        started = time.perf_counter()
        grade_try(worst, answer, try_number=1)
        colds.append(time.perf_counter() - started)
    cold = statistics.median(colds)
    worst_time = per_call(lambda: grade_try(worst, answer, try_number=1), args.repeat, 3)

    table = Table(title="Grading one answer")
    for column in ("case", "per grade", "ratio to baseline"):
        table.add_column(column, justify="right" if column != "case" else "left")
    table.add_row("baseline: ordinary text answer", f"{baseline * 1e6:,.1f} µs", "1.0")
    table.add_row(
        f"worst case: {len(document['blanks'])} blanks, {size:,} instructions of slow patterns, "
        f"{MAX_ANSWER_LENGTH:,}-character near misses",
        f"{worst_time * 1e3:,.2f} ms",
        f"{worst_time / baseline:,.0f}",
    )
    table.add_row(
        "the same, first grade in the process (compiling)", f"{cold * 1e3:,.2f} ms", f"{cold / baseline:,.0f}"
    )
    console.print(table)
    console.print(
        f"(limits: {MAX_PROGRAM_SIZE:,} instructions a pattern, {MAX_QUESTION_PROGRAM_SIZE:,} a question)"
    )

    table = Table(title="(a+)+$ against 'a' x n + '!'")
    for column in ("engine", "n", "time"):
        table.add_column(column, justify="right" if column != "engine" else "left")
    catastrophic = re.compile(r"(a+)+$")
    python_times = []
    for n in (18, 20, 22, 24):
        started = time.perf_counter()
        catastrophic.fullmatch("a" * n + "!")
        python_times.append((n, time.perf_counter() - started))
        table.add_row("Python re (backtracking)", str(n), f"{python_times[-1][1] * 1e3:,.1f} ms")
    growth = (python_times[-1][1] / python_times[0][1]) ** (1 / (python_times[-1][0] - python_times[0][0]))
    program = compiled(r"(a+)+$", False)
    text = "a" * (MAX_ANSWER_LENGTH - 1) + "!"
    re2_time = per_call(lambda: program.fullmatch(text), args.repeat, 1000)
    table.add_row("RE2 (Edu Vault)", f"{MAX_ANSWER_LENGTH - 1}", f"{re2_time * 1e6:,.1f} µs")
    console.print(table)
    console.print(
        f"Python's time grows {growth:.2f}x per extra 'a': at n = 999 that is about 10^"
        f"{(999 - python_times[-1][0]) * __import__('math').log10(growth):,.0f} times the n = 24 figure."
    )


if __name__ == "__main__":
    main()
