from __future__ import annotations

import pytest

from eduvault.cores.grading import solution
from eduvault.cores.grading.numeric import DEFAULT_RELATIVE_TOLERANCE

from .helpers import assert_grades, assert_invalid_answer, problems_of, question

TABLES = {
    # Open edX's default tolerance (0.001%) absorbs floating-point noise.
    "default": (
        {"answer": 0.3},
        [
            (0.1 + 0.2, 1.0, True),
            ("0.3", 1.0, True),
            (" 0.30 ", 1.0, True),
            ("3e-1", 1.0, True),
            (0.300002, 1.0, True),
            (0.30001, 0.0, False),
            (-0.3, 0.0, False),
        ],
    ),
    "integer": (
        {"answer": 42},
        [(42, 1.0, True), ("42", 1.0, True), ("4.2e1", 1.0, True), (42.0004, 1.0, True), (42.01, 0.0, False)],
    ),
    "absolute": (
        {"answer": 10, "absolute_tolerance": 0.5},
        [
            (10.5, 1.0, True),
            (9.5, 1.0, True),
            (" 10.2", 1.0, True),
            (10.51, 0.0, False),
            (9.4, 0.0, False),
        ],
    ),
    "absolute tolerance at the edge despite rounding": (
        {"answer": 0.3, "absolute_tolerance": 0.1},
        [(0.4, 1.0, True), (0.2, 1.0, True), (0.41, 0.0, False)],
    ),
    "relative": (
        {"answer": 200, "relative_tolerance": 0.05},
        [(210, 1.0, True), (190, 1.0, True), ("1.95e2", 1.0, True), (189.9, 0.0, False), (210.5, 0.0, False)],
    ),
    "both tolerances: the larger wins": (
        {"answer": 100, "absolute_tolerance": 1, "relative_tolerance": 0.05},
        [(104.9, 1.0, True), (94, 0.0, False)],
    ),
    "negative": (
        {"answer": -2.5, "absolute_tolerance": 0.01},
        [(" -2.5", 1.0, True), ("-2.509", 1.0, True), (2.5, 0.0, False)],
    ),
    "exact zero": (
        {"answer": 0},
        [(0, 1.0, True), (-0.0, 1.0, True), (1e-13, 1.0, True), ("-1e-13", 1.0, True), (1e-11, 0.0, False)],
    ),
    "zero with a tolerance": (
        {"answer": 0, "absolute_tolerance": 0.01},
        [(0.01, 1.0, True), (-0.009, 1.0, True), (0.02, 0.0, False)],
    ),
    "closed-open range": (
        {"range": "[5,7)"},
        [
            (5, 1.0, True),
            (4.99999, 1.0, True),  # inclusive bound: the default tolerance
            (6, 1.0, True),
            (6.9999999, 1.0, True),
            (7, 0.0, False),  # exclusive bound: exact
            (4.9, 0.0, False),
            ("7.0001", 0.0, False),
        ],
    ),
    "open-closed range with spaces": (
        {"range": " ( 0 , 1 ] "},
        [
            (0, 0.0, False),
            (1e-300, 1.0, True),
            (0.5, 1.0, True),
            (1, 1.0, True),
            (1.000001, 1.0, True),
            (1.1, 0.0, False),
        ],
    ),
    "open range": (
        {"range": "(-1.5, 1e1)"},
        [(-1.5, 0.0, False), (-1.4, 1.0, True), (9.99, 1.0, True), (10, 0.0, False)],
    ),
    "closed range": ({"range": "[-2,-1]"}, [(-2, 1.0, True), (-1, 1.0, True), (-0.9, 0.0, False)]),
}


@pytest.mark.parametrize(
    ("fields", "answer", "score", "correct"),
    [
        pytest.param(fields, *row, id=f"{name}-{row[0]!r}")
        for name, (fields, rows) in TABLES.items()
        for row in rows
    ],
)
def test_grades(fields, answer, score, correct):
    assert_grades(question("numeric", **fields), answer, score, correct)


def test_default_tolerance_is_open_edx():
    assert DEFAULT_RELATIVE_TOLERANCE == 1e-5


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"answer": 2.5}, 2.5),
        ({"range": "[5,7)"}, 5),
        ({"range": "(5,7]"}, 7),
        ({"range": "(5,7)"}, 6),
    ],
)
def test_solution(fields, expected):
    q = question("numeric", **fields)
    assert solution(q) == expected
    assert_grades(q, solution(q), 1.0, True)


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ("abc", "the answer must be a number, got 'abc'"),
        ("", "the answer must be a number, got ''"),
        ("   ", "must be a number"),
        ("1,5", "must be a number, got '1,5'"),
        ("1_000", "must be a number"),
        ("0x10", "must be a number"),
        ("nan", "must be a number, got 'nan'"),
        ("inf", "must be a number"),
        ("Infinity", "must be a number"),
        ("1e999", "the answer must be a finite number, got '1e999'"),
        (float("nan"), "the answer must be a finite number, got nan"),
        (float("inf"), "must be a finite number"),
        (float("-inf"), "must be a finite number"),
        (10**400, "must be a finite number, got a very long number"),
        (True, "the answer must be a number, got a boolean (true)"),
        (False, "got a boolean (false)"),
        (None, "got null"),
        ([1], "got a list"),
        ({"value": 1}, "got an object"),
        ([[{"a": [None]}]], "got a list"),
        ("1" * 101, "must be a number of at most 100 characters, got 101 characters"),
        ("9" * 100_000, "at most 100 characters"),
    ],
)
def test_malformed_answers(answer, fragment):
    assert_invalid_answer(question("numeric", answer=1), answer, fragment)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "answer: give exactly one of answer or range"),
        ({"answer": 1, "range": "[0,2]"}, "range: give either an answer or a range, not both"),
        ({"range": "[7,5)"}, "range: the lower bound must be below the upper bound"),
        ({"range": "[5,5]"}, "range: the lower bound must be below the upper bound"),
        ({"range": "5..7"}, "range: not a valid interval: write it like [5, 7) or (0, 1]"),
        ({"range": "[5,7"}, "range: not a valid interval"),
        ({"range": "[5;7]"}, "range: not a valid interval"),
        ({"range": "[a,7]"}, "range: the bounds of an interval must be finite numbers, got 'a'"),
        ({"range": "[-inf,7]"}, "range: the bounds of an interval must be finite numbers"),
        ({"range": "[1e999,7]"}, "range: the bounds of an interval must be finite numbers"),
        ({"range": "(0,5e-324)"}, "range: the interval contains no number"),
        ({"range": 5}, "range: must be a string, got 5"),
        ({"range": "[0,1]", "absolute_tolerance": 0.1}, "absolute_tolerance: does not apply to a range"),
        ({"answer": "5"}, "answer: must be a number, got '5'"),
        ({"answer": True}, "answer: must be a number, got a boolean (true)"),
        ({"answer": float("nan")}, "answer: must be a finite number"),
        ({"answer": 1, "absolute_tolerance": -1}, "absolute_tolerance: must be at least 0.0, got -1"),
        ({"answer": 1, "relative_tolerance": "5%"}, "relative_tolerance: must be a number, got '5%'"),
        ({"answer": 1, "tolerance": 0.1}, "tolerance: unknown field; did you mean"),
    ],
)
def test_invalid_questions(fields, expected):
    problems = problems_of({"type": "numeric", "prompt": "How much?", **fields})
    assert any(p.startswith(expected) for p in problems), problems
