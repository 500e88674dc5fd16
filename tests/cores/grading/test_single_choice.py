from __future__ import annotations

import pytest

from eduvault.cores.grading import grade_try, present, solution

from .helpers import assert_grades, assert_invalid_answer, problems_of, question

QUESTION = question(
    "single_choice",
    prompt="Which planet is closest to the Sun?",
    choices=[
        {"id": "mercury", "text": "Mercury", "correct": True, "feedback": "Yes."},
        {"id": "venus", "text": "Venus", "credit": 0.5, "feedback": "Second closest."},
        {"id": "mars", "text": "Mars", "feedback": "No: Mars is fourth."},
        {"id": "earth", "text": "Earth"},
    ],
)


@pytest.mark.parametrize(
    ("answer", "score", "correct", "feedback"),
    [
        ("mercury", 1.0, True, "Yes."),
        ("venus", 0.5, False, "Second closest."),
        ("mars", 0.0, False, "No: Mars is fourth."),
        ("earth", 0.0, False, ""),
    ],
)
def test_grades(answer, score, correct, feedback):
    assert_grades(QUESTION, answer, score, correct)
    assert grade_try(QUESTION, answer, try_number=1).feedback == feedback


def test_correct_choice_with_credit_one_is_allowed():
    q = question(
        "single_choice",
        choices=[{"id": "a", "text": "A", "correct": True, "credit": 1}, {"id": "b", "text": "B"}],
    )
    assert_grades(q, "a", 1.0, True)


@pytest.mark.parametrize(
    "answer",
    [
        "pluto",
        "",
        "MERCURY",
        1,
        0,
        None,
        True,
        ["mercury"],
        {"id": "mercury"},
        2.5,
        "m" * 5000,
        [[{"a": []}]],
    ],
)
def test_malformed_answers(answer):
    assert_invalid_answer(
        QUESTION, answer, "the answer must be one of the choice ids: mercury, venus, mars, earth"
    )


def test_huge_string_is_not_echoed():
    with pytest.raises(Exception) as info:
        grade_try(QUESTION, "x" * 100_000, try_number=1)
    assert len(str(info.value)) < 300


def test_solution_and_view():
    assert solution(QUESTION) == "mercury"
    view = present(QUESTION, seed="s", shuffle=False)
    assert view["choices"] == [
        {"id": "mercury", "text": "Mercury"},
        {"id": "venus", "text": "Venus"},
        {"id": "mars", "text": "Mars"},
        {"id": "earth", "text": "Earth"},
    ]


def choices(*specs: dict) -> list[dict]:
    return [{"id": f"c{i}", "text": f"Choice {i}", **spec} for i, spec in enumerate(specs)]


@pytest.mark.parametrize(
    ("choice_list", "expected"),
    [
        (choices({"correct": True}), ["choices: must have at least 2 entries (has 1)"]),
        (choices({}, {}), ["choices: exactly one choice must be correct (found 0)"]),
        (
            choices({"correct": True}, {"correct": True}, {"correct": True}),
            [
                "choices[1].correct: exactly one choice must be correct (found 3)",
                "choices[2].correct: exactly one choice must be correct (found 3)",
            ],
        ),
        (
            [{"id": "a", "text": "A", "correct": True}, {"id": "b", "text": "B"}, {"id": "a", "text": "C"}],
            ["choices[2].id: duplicate id 'a' (already used by choices[0].id)"],
        ),
        (
            choices({"correct": True, "credit": 0.5}, {}),
            ["choices[0].credit: the correct choice gets full credit"],
        ),
        (choices({"correct": True}, {"credit": 1}), ["choices[1].credit: must be below 1"]),
        (choices({"correct": True}, {"credit": 1.5}), ["choices[1].credit: must be at most 1"]),
        (choices({"correct": True}, {"credit": -0.1}), ["choices[1].credit: must be at least 0"]),
        (choices({"correct": "yes"}, {}), ["choices[0].correct: must be true or false, got 'yes'"]),
        (choices({"correct": True}, {"corect": True}), ["choices[1].corect: unknown field"]),
        (choices({"correct": True}, {"text": ""}), ["choices[1].text: must not be empty"]),
        (
            [{"id": "a b", "text": "A", "correct": True}, {"id": "b", "text": "B"}],
            ["choices[0].id: an id must start with a letter, digit or underscore"],
        ),
        ([{"id": "a", "correct": True}, {"id": "b", "text": "B"}], ["choices[0].text: is required"]),
        ("abc", ["choices: must be a list, got 'abc'"]),
        (["abc", {"id": "b", "text": "B", "correct": True}], ["choices[0]: must be an object"]),
    ],
)
def test_invalid_questions(choice_list, expected):
    problems = problems_of({"type": "single_choice", "prompt": "P", "choices": choice_list})
    for fragment in expected:
        assert any(p.startswith(fragment) for p in problems), (fragment, problems)
