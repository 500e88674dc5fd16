from __future__ import annotations

import pytest

from eduvault.cores.grading import present, solution

from .helpers import assert_grades, assert_invalid_answer, problems_of, question

ITEMS = [{"id": i, "text": f"Step {i}"} for i in "abcd"]
POSITION = question("ordering", items=ITEMS, scoring="position")
STRICT = question("ordering", items=ITEMS)


@pytest.mark.parametrize(
    ("q", "answer", "score", "correct"),
    [
        (POSITION, ["a", "b", "c", "d"], 1.0, True),
        (POSITION, ["b", "a", "c", "d"], 0.5, False),
        (POSITION, ["a", "c", "b", "d"], 0.5, False),
        (POSITION, ["a", "b", "d", "c"], 0.5, False),
        (POSITION, ["d", "b", "c", "a"], 0.5, False),
        (POSITION, ["b", "c", "d", "a"], 0.0, False),
        (POSITION, ["d", "c", "b", "a"], 0.0, False),
        (STRICT, ["a", "b", "c", "d"], 1.0, True),
        (STRICT, ["a", "b", "d", "c"], 0.0, False),
        (STRICT, ["d", "c", "b", "a"], 0.0, False),
    ],
)
def test_grades(q, answer, score, correct):
    assert_grades(q, answer, score, correct)


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ("abcd", "the answer must be a list of the item ids in order, got 'abcd'"),
        ({"a": 1}, "got an object"),
        (None, "got null"),
        (["a", "b", "c"], "the answer must list every item exactly once: missing d"),
        (["a", "b", "c", "d", "e"], "unknown 'e'"),
        (["a", "a", "b", "c"], "missing d; duplicated a"),
        (["a", "b", "x", "x"], "missing c, d; unknown 'x'"),
        ([], "missing a, b, c, d"),
        ([1, 2, 3, 4], "the answer must be a list of item ids (strings), got 1, 2, 3, 4 in it"),
        (["a", "b", "c", ["d"]], "got a list in it"),
        (["a"] * 100_000, "the answer lists 100000 ids but there are only 4 items"),
    ],
)
def test_malformed_answers(answer, fragment):
    assert_invalid_answer(POSITION, answer, fragment)


def test_solution():
    assert solution(POSITION) == ["a", "b", "c", "d"]


def test_view_is_always_shuffled_never_in_order():
    two = question("ordering", items=ITEMS[:2])
    for seed in range(50):
        for q in (two, POSITION):
            for shuffle in (True, False):
                ids = [item["id"] for item in present(q, seed=str(seed), shuffle=shuffle)["items"]]
                assert sorted(ids) == solution(q)
                assert ids != solution(q)


def test_invalid_questions():
    problems = problems_of(
        {
            "type": "ordering",
            "prompt": "P",
            "items": [{"id": "a", "text": "A"}, {"id": "a", "text": "B"}, {"id": "c"}],
            "scoring": "partial",
        }
    )
    assert problems == [
        "items[2].text: is required",
        "scoring: must be one of 'all_or_nothing' or 'position', got 'partial'",
    ]
    problems = problems_of(
        {"type": "ordering", "prompt": "P", "items": [{"id": "a", "text": "A"}, {"id": "a", "text": "B"}]}
    )
    assert problems == ["items[1].id: duplicate id 'a' (already used by items[0].id)"]
    assert problems_of({"type": "ordering", "prompt": "P", "items": [{"id": "a", "text": "A"}]}) == [
        "items: must have at least 2 entries (has 1)"
    ]
