from __future__ import annotations

import pytest

from eduvault.cores.grading import grade_try, solution

from .helpers import assert_grades, assert_invalid_answer, problems_of, question


def mr(correct: str, scoring: str = "all_or_nothing", n: int | None = None, **extra):
    """A question whose choices are the letters of ``n`` (default: 5), the correct ones in ``correct``."""
    letters = "abcdefgh"[: n or 5]
    choices = [{"id": c, "text": c.upper(), "correct": c in correct} for c in letters]
    return question("multiple_response", choices=choices, scoring=scoring, **extra)


TABLES = {
    # (scoring, correct letters, number of choices): [(answer, score, correct)]
    ("all_or_nothing", "abc", 5): [
        (["a", "b", "c"], 1.0, True),
        (["c", "a", "b"], 1.0, True),
        (["a", "b"], 0.0, False),
        (["a", "b", "c", "d"], 0.0, False),
        ([], 0.0, False),
    ],
    ("every_decision_counts", "abc", 5): [
        (["a", "b", "c"], 1.0, True),
        (["a", "b"], 0.8, False),
        (["a", "b", "c", "d"], 0.8, False),
        ([], 0.4, False),
        (["a", "b", "c", "d", "e"], 0.6, False),
        (["d", "e"], 0.0, False),
    ],
    # Open edX's halves: 1 error -> half credit if more than 2 choices; 2 errors -> a quarter if more than 4.
    ("halves", "a", 2): [
        (["a"], 1.0, True),
        ([], 0.0, False),
        (["a", "b"], 0.0, False),
        (["b"], 0.0, False),
    ],
    ("halves", "ab", 3): [
        (["a", "b"], 1.0, True),
        (["a"], 0.5, False),
        (["a", "b", "c"], 0.5, False),
        (["a", "c"], 0.0, False),
        ([], 0.0, False),
    ],
    ("halves", "ab", 4): [
        (["a"], 0.5, False),
        (["a", "c"], 0.0, False),
    ],
    ("halves", "abc", 5): [
        (["a", "b", "c"], 1.0, True),
        (["a", "b"], 0.5, False),
        (["a", "b", "c", "d"], 0.5, False),
        (["a", "b", "d"], 0.25, False),
        (["a"], 0.25, False),
        (["a", "b", "c", "d", "e"], 0.25, False),
        (["a", "d"], 0.0, False),
        ([], 0.0, False),
    ],
}


@pytest.mark.parametrize(
    ("scoring", "correct", "n", "answer", "score", "right"),
    [(*key, *row) for key, rows in TABLES.items() for row in rows],
)
def test_schemes(scoring, correct, n, answer, score, right):
    assert_grades(mr(correct, scoring, n), answer, score, right)


FRACTIONS = question(
    "multiple_response",
    scoring="fractions",
    choices=[
        {"id": "a", "text": "A", "fraction": 0.5, "feedback": "A is right."},
        {"id": "b", "text": "B", "fraction": 0.5},
        {"id": "c", "text": "C", "fraction": -0.5, "feedback": "C is wrong."},
        {"id": "d", "text": "D", "fraction": -1},
        {"id": "e", "text": "E", "fraction": 0},
    ],
)


@pytest.mark.parametrize(
    ("answer", "score", "correct"),
    [
        (["a", "b"], 1.0, True),
        (["a", "b", "e"], 1.0, True),
        (["a"], 0.5, False),
        (["a", "c"], 0.0, False),
        (["a", "b", "c"], 0.5, False),
        (["c", "d"], 0.0, False),
        (["a", "b", "c", "d"], 0.0, False),
        ([], 0.0, False),
    ],
)
def test_fractions(answer, score, correct):
    assert_grades(FRACTIONS, answer, score, correct)


def test_fractions_in_thirds_add_up():
    thirds = question(
        "multiple_response",
        scoring="fractions",
        choices=[{"id": c, "text": c, "fraction": 1 / 3} for c in "abc"]
        + [{"id": "d", "text": "d", "fraction": -1}],
    )
    assert_grades(thirds, ["a", "b", "c"], 1.0, True)
    assert_grades(thirds, ["a", "b"], 2 / 3, False)
    assert solution(thirds) == ["a", "b", "c"]


def test_feedback_of_selected_choices_in_choice_order():
    result = grade_try(FRACTIONS, ["c", "b", "a"], try_number=1)
    assert result.feedback == "A is right. C is wrong."


def test_solution():
    assert solution(mr("bd")) == ["b", "d"]
    assert solution(FRACTIONS) == ["a", "b"]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ("a", "the answer must be a list of ids (a, b, c, d, e), got 'a'"),
        ({"a": True}, "must be a list of ids"),
        (None, "got null"),
        (["a", "z"], "the answer holds unknown ids: 'z'; the ids are: a, b, c, d, e"),
        (["a", "a"], "the answer lists some ids more than once: a"),
        (["a", 1], "must be a list of ids (strings), got 1 in the list"),
        ([["a"]], "got a list in the list"),
        ([True], "got a boolean (true) in the list"),
        (["a"] * 10_000, "lists 10000 ids but there are only 5 to choose from"),
        ([{"id": "a"}], "got an object in the list"),
    ],
)
def test_malformed_answers(answer, fragment):
    assert_invalid_answer(mr("ab"), answer, fragment)


def test_invalid_questions():
    base = {"type": "multiple_response", "prompt": "P"}
    problems = problems_of({**base, "choices": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]})
    assert problems == ["choices: at least one choice must be correct"]

    problems = problems_of(
        {
            **base,
            "choices": [{"id": "a", "text": "A", "correct": True, "fraction": 1}, {"id": "b", "text": "B"}],
        }
    )
    assert problems == [
        "choices[0].fraction: only used with scoring 'fractions' (scoring is 'all_or_nothing')"
    ]

    problems = problems_of(
        {
            **base,
            "scoring": "fractions",
            "choices": [{"id": "a", "text": "A", "fraction": 1}, {"id": "b", "text": "B"}],
        }
    )
    assert problems == ["choices[1].fraction: is required with scoring 'fractions' (choice 'b')"]

    problems = problems_of(
        {
            **base,
            "scoring": "fractions",
            "choices": [
                {"id": "a", "text": "A", "fraction": 0.5},
                {"id": "b", "text": "B", "fraction": 0.4},
                {"id": "c", "text": "C", "fraction": -0.2, "correct": True},
            ],
        }
    )
    assert problems == [
        "choices[2].correct: contradicts fraction -0.2 (with scoring 'fractions' a choice is correct when "
        "its fraction is positive)",
        "choices: the positive fractions must add up to 1 (they add up to 0.9)",
    ]

    problems = problems_of(
        {
            **base,
            "scoring": "fractions",
            "choices": [{"id": "a", "text": "A", "fraction": 0}, {"id": "b", "text": "B", "fraction": -2}],
        }
    )
    assert problems == ["choices[1].fraction: must be at least -1.0, got -2"]

    problems = problems_of(
        {**base, "scoring": "most", "choices": [{"id": "a", "text": "A", "correct": True}] * 2}
    )
    assert problems == [
        "scoring: must be one of 'all_or_nothing', 'every_decision_counts', 'halves' or 'fractions', got 'most'"
    ]
