from __future__ import annotations

import pytest

from eduvault.cores.grading import grade_try, solution

from .helpers import assert_grades, assert_invalid_answer, problems_of, question

CAPITAL = question(
    "text_input",
    prompt="What is the capital of France?",
    answers=[{"value": "Paris"}, {"regex": r"(the )?capital of france"}],
    wrong_answers=[
        {"value": "Lyon", "feedback": "Lyon is the third-largest city."},
        {"regex": r"marseilles?", "feedback": "Marseille is a port."},
    ],
)
CHEMISTRY = question(
    "text_input",
    prompt="Formula of table salt?",
    answers=[{"value": "NaCl"}, {"regex": r"Na\s?Cl"}],
    case_sensitive=True,
)
UNICODE = question(
    "text_input",
    answers=[{"value": "café"}, {"value": "Straße"}, {"value": "Ａ"}],
)
ANCHORED = question("text_input", answers=[{"value": "cat"}, {"regex": "^cat"}, {"regex": "do+g"}])

TABLES = {
    "case and whitespace": (
        CAPITAL,
        [
            ("Paris", 1.0, True),
            ("paris", 1.0, True),
            ("  PARIS \n", 1.0, True),
            ("Pa ris", 0.0, False),
            ("the   Capital\tof France", 1.0, True),
            ("capital of france", 1.0, True),
            ("not the capital of france", 0.0, False),
            ("capital of france, I think", 0.0, False),
            ("Parisian", 0.0, False),
            ("", 0.0, False),
            ("Lyon", 0.0, False),
        ],
    ),
    "case sensitive": (
        CHEMISTRY,
        [
            ("NaCl", 1.0, True),
            ("  NaCl ", 1.0, True),
            ("Na Cl", 1.0, True),
            ("Na   Cl", 1.0, True),  # whitespace is collapsed before the regex
            ("nacl", 0.0, False),
            ("NACL", 0.0, False),
            ("na cl", 0.0, False),
        ],
    ),
    "unicode normalisation": (
        UNICODE,
        [
            ("cafe\u0301", 1.0, True),  # NFD e + combining acute == NFC é
            ("CAFÉ", 1.0, True),
            ("strasse", 1.0, True),  # casefold: ß -> ss
            ("STRASSE", 1.0, True),
            ("Ａ", 1.0, True),
            ("cafe", 0.0, False),
        ],
    ),
    "regexes are anchored": (
        ANCHORED,
        [
            ("cat", 1.0, True),
            ("Cat", 1.0, True),
            ("catalog", 0.0, False),
            ("a cat", 0.0, False),
            ("doooog", 1.0, True),
            ("hotdog", 0.0, False),
            ("dogs", 0.0, False),
        ],
    ),
}


@pytest.mark.parametrize(
    ("q", "answer", "score", "correct"),
    [pytest.param(q, *row, id=f"{name}-{row[0]!r}") for name, (q, rows) in TABLES.items() for row in rows],
)
def test_grades(q, answer, score, correct):
    assert_grades(q, answer, score, correct)


@pytest.mark.parametrize(
    ("answer", "feedback"),
    [
        ("lyon", "Lyon is the third-largest city."),
        ("  LYON", "Lyon is the third-largest city."),
        ("Marseilles", "Marseille is a port."),
        ("Nice", ""),
        ("Paris", ""),
    ],
)
def test_wrong_answer_feedback(answer, feedback):
    assert grade_try(CAPITAL, answer, try_number=1).feedback == feedback


def test_solution_is_the_first_value():
    assert solution(CAPITAL) == "Paris"
    q = question("text_input", answers=[{"regex": "x+"}, {"value": "xx"}])
    assert solution(q) == "xx"


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (5, "the answer must be a string, got 5"),
        (None, "the answer must be a string, got null"),
        (True, "got a boolean (true)"),
        (["Paris"], "got a list"),
        ({"value": "Paris"}, "got an object"),
        ("x" * 1001, "the answer must be at most 1000 characters long, got 1001"),
        ("x" * 1_000_000, "at most 1000 characters long"),
    ],
)
def test_malformed_answers(answer, fragment):
    assert_invalid_answer(CAPITAL, answer, fragment)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"answers": []}, "answers: must have at least 1 entry (has 0)"),
        ({"answers": [{"value": "a", "regex": "a"}]}, "answers[0]: give exactly one of value or regex"),
        ({"answers": [{"value": "a"}, {}]}, "answers[1]: give exactly one of value or regex"),
        (
            {"answers": [{"value": "a"}, {"regex": "(a"}]},
            "answers[1].regex: not a valid regular expression: ",
        ),
        (
            {"answers": [{"value": "a"}, {"regex": "a" * 501}]},
            "answers[1].regex: must be at most 500 characters",
        ),
        ({"answers": [{"value": "   "}]}, "answers[0].value: must not be blank"),
        ({"answers": [{"regex": "a+"}]}, "answers: give at least one plain value"),
        ({"answers": [{"value": 1}]}, "answers[0].value: must be a string, got 1"),
        (
            {"answers": [{"value": "a"}], "wrong_answers": [{"value": "b"}]},
            "wrong_answers[0].feedback: is required",
        ),
        (
            {"answers": [{"value": "a"}], "wrong_answers": [{"regex": "[b", "feedback": "f"}]},
            "wrong_answers[0].regex: not a valid regular expression",
        ),
        ({"answers": [{"value": "a"}], "case_sensitive": "no"}, "case_sensitive: must be true or false"),
        (
            {"answers": [{"value": "a"}], "casesensitive": True},
            "casesensitive: unknown field; did you mean 'case_sensitive'?",
        ),
    ],
)
def test_invalid_questions(fields, expected):
    problems = problems_of({"type": "text_input", "prompt": "P", **fields})
    assert any(p.startswith(expected) for p in problems), problems
