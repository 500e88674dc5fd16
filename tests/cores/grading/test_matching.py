from __future__ import annotations

import pytest

from eduvault.cores.grading import grade_try, present, solution

from .helpers import assert_invalid_answer, problems_of, question

PROMPTS = [{"id": "fr", "text": "France"}, {"id": "jp", "text": "Japan"}, {"id": "pe", "text": "Peru"}]
OPTIONS = [
    {"id": "paris", "text": "Paris"},
    {"id": "tokyo", "text": "Tokyo"},
    {"id": "lima", "text": "Lima"},
    {"id": "rome", "text": "Rome"},  # distractors
    {"id": "berlin", "text": "Berlin"},
]
PAIRS = {"fr": "paris", "jp": "tokyo", "pe": "lima"}
PARTIAL = question("matching", prompts=PROMPTS, options=OPTIONS, pairs=PAIRS)
ALL = question("matching", prompts=PROMPTS, options=OPTIONS, pairs=PAIRS, scoring="all_or_nothing")


@pytest.mark.parametrize(
    ("q", "answer", "score", "parts"),
    [
        (PARTIAL, PAIRS, 1.0, (True, True, True)),
        (PARTIAL, {"fr": "paris", "jp": "tokyo", "pe": "rome"}, 2 / 3, (True, True, False)),
        (PARTIAL, {"fr": "paris", "jp": "tokyo"}, 2 / 3, (True, True, False)),
        (PARTIAL, {"fr": "paris", "jp": None}, 1 / 3, (True, False, False)),
        (PARTIAL, {"fr": "tokyo", "jp": "paris", "pe": "berlin"}, 0.0, (False, False, False)),
        (PARTIAL, {"fr": "paris", "jp": "paris", "pe": "paris"}, 1 / 3, (True, False, False)),
        (PARTIAL, {}, 0.0, (False, False, False)),
        (ALL, PAIRS, 1.0, (True, True, True)),
        (ALL, {"fr": "paris", "jp": "tokyo", "pe": "rome"}, 0.0, (True, True, False)),
    ],
)
def test_grades(q, answer, score, parts):
    result = grade_try(q, answer, try_number=1)
    assert result.score == pytest.approx(score)
    assert result.correct is (score == 1.0)
    assert result.parts == dict(zip(["fr", "jp", "pe"], parts))


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (
            ["paris", "tokyo", "lima"],
            "the answer must be an object mapping prompt ids to answers, got a list",
        ),
        ("paris", "must be an object"),
        ({"de": "berlin"}, "the answer names unknown prompt ids: 'de'; the prompt ids are: fr, jp, pe"),
        (
            {"fr": "madrid"},
            "the answer for prompt 'fr' must be one of the option ids: paris, tokyo, lima, rome, berlin",
        ),
        ({"fr": 3}, "got 3"),
        ({"fr": ["paris"]}, "got a list"),
        ({"fr": {"id": "paris"}}, "got an object"),
        ({"fr": True}, "got a boolean (true)"),
    ],
)
def test_malformed_answers(answer, fragment):
    assert_invalid_answer(PARTIAL, answer, fragment)


def test_solution_and_view():
    assert solution(PARTIAL) == PAIRS
    view = present(PARTIAL, seed="s", shuffle=False)
    assert view["prompts"] == PROMPTS
    assert view["options"] == OPTIONS
    orders = {
        tuple(o["id"] for o in present(PARTIAL, seed=str(s), shuffle=True)["options"]) for s in range(20)
    }
    assert len(orders) > 1
    assert all(present(PARTIAL, seed=str(s), shuffle=True)["prompts"] == PROMPTS for s in range(5))


def test_invalid_questions():
    problems = problems_of(
        {
            "type": "matching",
            "prompt": "Match.",
            "prompts": [
                {"id": "fr", "text": "France"},
                {"id": "jp", "text": "Japan"},
                {"id": "it", "text": "Italy"},
            ],
            "options": [{"id": "paris", "text": "Paris"}, {"id": "fr", "text": "Tokyo"}],
            "pairs": {"fr": "paris", "jp": "tokyo", "de": "paris"},
        }
    )
    assert problems == [
        "options[1].id: duplicate id 'fr' (already used by prompts[0].id)",
        "pairs.jp: there is no option with id 'tokyo'",
        "pairs.de: there is no prompt with id 'de'",
        "pairs.it: prompt 'it' has no pair",
    ]
    problems = problems_of(
        {
            "type": "matching",
            "prompt": "Match.",
            "prompts": [],
            "options": [{"id": "paris", "text": "Paris"}],
            "pairs": {"fr": 1},
            "scoring": "partial credit",
        }
    )
    assert problems == [
        "prompts: must have at least 1 entry (has 0)",
        "pairs.fr: must be a string, got 1",
        "scoring: must be one of 'partial' or 'all_or_nothing', got 'partial credit'",
    ]
