from __future__ import annotations

import pytest

from eduvault.cores.grading import TryResult, grade_try, reveal
from eduvault.kernel.errors import InvalidAnswer

from .helpers import question

SINGLE = question(
    "single_choice",
    penalty=0.25,
    hints=["Hint one.", "Hint two."],
    explanation="Because.",
    choices=[
        {"id": "a", "text": "A", "correct": True},
        {"id": "b", "text": "B", "credit": 0.5, "feedback": "Almost."},
        {"id": "c", "text": "C"},
    ],
)


@pytest.mark.parametrize(
    ("answer", "try_number", "score", "raw"),
    [
        ("a", 1, 1.0, 1.0),
        ("a", 2, 0.75, 1.0),
        ("a", 3, 0.5, 1.0),
        ("a", 4, 0.25, 1.0),
        ("a", 5, 0.0, 1.0),
        ("a", 9, 0.0, 1.0),
        ("b", 1, 0.5, 0.5),
        ("b", 2, 0.25, 0.5),
        ("b", 3, 0.0, 0.5),
        ("b", 4, 0.0, 0.5),
        ("c", 1, 0.0, 0.0),
        ("c", 3, 0.0, 0.0),
    ],
)
def test_penalty_per_extra_try_never_below_zero(answer, try_number, score, raw):
    result = grade_try(SINGLE, answer, try_number=try_number)
    assert result.score == score
    assert result.raw_score == raw
    assert result.correct is (raw == 1.0)
    assert result.try_number == try_number


def test_penalty_scores_are_rounded():
    q = question("numeric", answer=1, penalty=0.1)
    assert [grade_try(q, 1, try_number=n).score for n in range(1, 13)] == [
        1.0,
        0.9,
        0.8,
        0.7,
        0.6,
        0.5,
        0.4,
        0.3,
        0.2,
        0.1,
        0.0,
        0.0,
    ]


def test_no_penalty_by_default():
    q = question("numeric", answer=1)
    assert grade_try(q, 1, try_number=7).score == 1.0


def test_partial_credit_with_penalty_on_blanks():
    q = question(
        "fill_blanks",
        prompt="[[x]] and [[y]]",
        penalty=0.2,
        blanks=[{"id": "x", "answers": [{"value": "a"}]}, {"id": "y", "kind": "numeric", "answer": 2}],
    )
    result = grade_try(q, {"x": "a", "y": 3}, try_number=2)
    assert result == TryResult(
        score=0.3, raw_score=0.5, correct=False, feedback="", parts={"x": True, "y": False}, try_number=2
    )


def test_invalid_answers_propagate():
    with pytest.raises(InvalidAnswer):
        grade_try(SINGLE, "z", try_number=1)


def test_tries_are_numbered_from_one():
    with pytest.raises(ValueError, match="from 1"):
        grade_try(SINGLE, "a", try_number=0)


def test_reveal_one_more_hint_per_wrong_answer_and_explanation_at_the_end():
    first = grade_try(SINGLE, "b", try_number=1)
    assert reveal(SINGLE, first, wrong_tries=1, final=False) == {
        "correct": False,
        "score": 0.5,
        "feedback": "Almost.",
        "hints": ["Hint one."],
        "explanation": None,
    }
    second = grade_try(SINGLE, "c", try_number=2)
    assert reveal(SINGLE, second, wrong_tries=2, final=False)["hints"] == ["Hint one.", "Hint two."]
    assert reveal(SINGLE, second, wrong_tries=5, final=False)["hints"] == ["Hint one.", "Hint two."]
    third = grade_try(SINGLE, "a", try_number=3)
    assert reveal(SINGLE, third, wrong_tries=2, final=True) == {
        "correct": True,
        "score": 0.5,
        "feedback": "",
        "hints": ["Hint one.", "Hint two."],
        "explanation": "Because.",
    }
    assert reveal(SINGLE, grade_try(SINGLE, "a", try_number=1), wrong_tries=0, final=True)["hints"] == []
