from __future__ import annotations

import pytest

from eduvault.cores.grading import grade_try, present, solution

from .helpers import assert_invalid_answer, problems_of, question

WATER = question(
    "fill_blanks",
    prompt="Water boils at [[temp]] °C at sea level; its formula is [[formula]], and it is [[state]] at 20 °C.",
    blanks=[
        {"id": "temp", "kind": "numeric", "answer": 100, "absolute_tolerance": 1},
        {
            "id": "formula",
            "answers": [{"value": "H2O"}],
            "case_sensitive": True,
            "wrong_answers": [{"value": "HO2", "feedback": "Check the order."}],
        },
        {"id": "state", "kind": "text", "answers": [{"value": "liquid"}, {"regex": "a liquid|fluid"}]},
    ],
)


@pytest.mark.parametrize(
    ("answer", "score", "parts", "feedback"),
    [
        ({"temp": 100, "formula": "H2O", "state": "liquid"}, 1.0, (True, True, True), ""),
        ({"temp": "99.5", "formula": " H2O ", "state": "A Liquid"}, 1.0, (True, True, True), ""),
        ({"temp": 100, "formula": "h2o", "state": "fluid"}, 2 / 3, (True, False, True), ""),
        ({"temp": 100}, 1 / 3, (True, False, False), ""),
        ({"temp": None, "formula": "H2O"}, 1 / 3, (False, True, False), ""),
        ({}, 0.0, (False, False, False), ""),
        ({"temp": 50, "formula": "HO2", "state": "gas"}, 0.0, (False, False, False), "Check the order."),
        (
            {"temp": "101", "formula": "HO2", "state": "liquid"},
            2 / 3,
            (True, False, True),
            "Check the order.",
        ),
    ],
)
def test_grades(answer, score, parts, feedback):
    result = grade_try(WATER, answer, try_number=1)
    assert result.score == pytest.approx(score)
    assert result.correct is (score == 1.0)
    assert result.parts == dict(zip(["temp", "formula", "state"], parts))
    assert result.feedback == feedback


def test_solution_and_view():
    assert solution(WATER) == {"temp": 100.0, "formula": "H2O", "state": "liquid"}
    assert grade_try(WATER, solution(WATER), try_number=1).correct
    view = present(WATER, seed="x", shuffle=True)
    assert view["blanks"] == [{"id": "temp"}, {"id": "formula"}, {"id": "state"}]
    assert view["prompt"] == WATER.prompt


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (["100", "H2O"], "the answer must be an object mapping blank ids to answers, got a list"),
        ("100", "must be an object"),
        (None, "got null"),
        (
            {"pressure": 1},
            "the answer names unknown blank ids: 'pressure'; the blank ids are: temp, formula, state",
        ),
        ({"temp": "hot"}, "the answer to blank 'temp' must be a number, got 'hot'"),
        ({"temp": True}, "the answer to blank 'temp' must be a number, got a boolean (true)"),
        ({"temp": float("nan")}, "the answer to blank 'temp' must be a finite number"),
        ({"temp": [100]}, "the answer to blank 'temp' must be a number, got a list"),
        ({"formula": 5}, "the answer to blank 'formula' must be a string, got 5"),
        ({"formula": {"value": "H2O"}}, "the answer to blank 'formula' must be a string, got an object"),
        ({"formula": "x" * 2000}, "the answer to blank 'formula' must be at most 1000 characters long"),
    ],
)
def test_malformed_answers(answer, fragment):
    assert_invalid_answer(WATER, answer, fragment)


def blanks_problems(prompt, blanks):
    return problems_of({"type": "fill_blanks", "prompt": prompt, "blanks": blanks})


def test_markers_and_blanks_must_agree():
    problems = blanks_problems(
        "A [[a]], a [[b]] and [[b]] again, then [[zz]].",
        [
            {"id": "a", "answers": [{"value": "x"}]},
            {"id": "b", "answers": [{"value": "x"}]},
            {"id": "c", "answers": [{"value": "x"}]},
        ],
    )
    assert problems == [
        "blanks[1].id: blank 'b' appears 2 times in the prompt (once only)",
        "blanks[2].id: blank 'c' does not appear in the prompt (write [[c]] where it goes)",
        "prompt: the marker [[zz]] has no blank with that id",
    ]


@pytest.mark.parametrize(
    ("blank", "expected"),
    [
        ({"id": "a"}, "blanks[0].answers: is required for a text blank"),
        ({"id": "a", "answers": [{"value": "x"}], "answer": 3}, "blanks[0].answer: not used by a text blank"),
        ({"id": "a", "kind": "numeric"}, "blanks[0].answer: give exactly one of answer or range"),
        (
            {"id": "a", "kind": "numeric", "range": "[1,2]", "answers": [{"value": "x"}]},
            "blanks[0].answers: not used by a numeric blank",
        ),
        ({"id": "a", "kind": "numeric", "range": "[2,1]"}, "blanks[0].range: the lower bound must be below"),
        ({"id": "a", "kind": "numeric", "answer": 1, "range": "[0,2]"}, "blanks[0].range: give either"),
        (
            {"id": "a", "answers": [{"regex": "(x"}]},
            "blanks[0].answers[0].regex: not a valid regular expression",
        ),
        (
            {"id": "a", "answers": [{"value": "x"}, {"value": "y", "regex": "y"}]},
            "blanks[0].answers[1]: give exactly one",
        ),
        ({"id": "a", "answers": [{"regex": "x"}]}, "blanks[0].answers: give at least one plain value"),
        ({"id": "a", "kind": "date"}, "blanks[0].kind: must be one of 'text' or 'numeric', got 'date'"),
        ({"id": "a", "answers": [{"value": "x"}], "hint": "h"}, "blanks[0].hint: unknown field"),
    ],
)
def test_invalid_blanks(blank, expected):
    problems = blanks_problems("Fill [[a]].", [blank])
    assert any(p.startswith(expected) for p in problems), problems


def test_duplicate_blank_ids():
    problems = blanks_problems(
        "[[a]] [[a]]", [{"id": "a", "answers": [{"value": "x"}]}, {"id": "a", "answers": [{"value": "y"}]}]
    )
    assert "blanks[1].id: duplicate id 'a' (already used by blanks[0].id)" in problems
