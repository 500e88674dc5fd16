from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest

from eduvault.cores.grading import draw

POOL = {
    "limits": [f"lim{i}" for i in range(10)],
    "derivatives": [f"der{i}" for i in range(5)],
    "integrals": ["int0"],
    "empty": [],
}


def per_subtopic(drawn: list[str]) -> dict[str, int]:
    counts = Counter()
    for sub, ids in POOL.items():
        counts[sub] = len(set(ids) & set(drawn))
    return dict(counts)


def test_everything_when_no_count_or_count_too_big():
    every = [*POOL["limits"], *POOL["derivatives"], "int0"]
    assert draw(POOL, count=None, seed="s") == every
    assert draw(POOL, count=16, seed="s") == every
    assert draw(POOL, count=100, seed="s") == every
    assert draw({}, count=3, seed="s") == []


def test_nothing():
    assert draw(POOL, count=0, seed="s") == []
    with pytest.raises(ValueError):
        draw(POOL, count=-1, seed="s")


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        # quotas 5, 2.5, 0.5: every subtopic gets at least one, taken from the over-represented.
        (8, {"limits": 5, "derivatives": 2, "integrals": 1, "empty": 0}),
        (3, {"limits": 1, "derivatives": 1, "integrals": 1, "empty": 0}),
        (15, {"limits": 9, "derivatives": 5, "integrals": 1, "empty": 0}),
        (12, {"limits": 7, "derivatives": 4, "integrals": 1, "empty": 0}),
    ],
)
def test_stratified_allocation(count, expected):
    for seed in ("a", "b", "c", "d"):
        assert per_subtopic(draw(POOL, count=count, seed=seed)) == expected


def test_too_few_for_every_subtopic_goes_to_the_largest():
    drawn = draw(POOL, count=1, seed="s")
    assert len(drawn) == 1 and drawn[0].startswith("lim")
    assert per_subtopic(draw(POOL, count=2, seed="s")) == {
        "limits": 1,
        "derivatives": 1,
        "integrals": 0,
        "empty": 0,
    }


def test_ties_are_broken_by_the_seed():
    pool = {s: [f"{s}{i}" for i in range(4)] for s in "abc"}
    seen = {tuple(sorted(per(draw(pool, count=2, seed=str(seed)), pool))) for seed in range(40)}
    assert len(seen) == 3  # each pair of subtopics gets drawn for some seed


def per(drawn: list[str], pool: dict[str, list[str]]) -> list[str]:
    return [s for s, ids in pool.items() if set(ids) & set(drawn)]


def test_grouped_by_subtopic_in_bank_order():
    drawn = draw(POOL, count=8, seed="attempt-1")
    order = [*POOL["limits"], *POOL["derivatives"], *POOL["integrals"]]
    assert drawn == sorted(drawn, key=order.index)


def test_deterministic_and_seed_dependent():
    pool = {f"s{s}": [f"q{s}.{i}" for i in range(25)] for s in range(4)}
    draws = [tuple(draw(pool, count=10, seed=f"attempt-{n}")) for n in range(20)]
    assert len(set(draws)) == 20
    assert [tuple(draw(pool, count=10, seed=f"attempt-{n}")) for n in range(20)] == draws


def test_ids_listed_twice_count_once():
    pool = {"a": ["x", "y", "x"], "b": ["y", "z"]}
    assert draw(pool, count=None, seed="s") == ["x", "y", "z"]
    assert sorted(draw(pool, count=2, seed="s")) in (["x", "z"], ["y", "z"])


def test_same_in_any_process():
    code = (
        "from eduvault.cores.grading import draw, parse_question, present;"
        "pool = {f's{s}': [f'q{s}.{i}' for i in range(25)] for s in range(4)};"
        "q = parse_question({'id': 'q1', 'type': 'ordering', 'prompt': 'P',"
        " 'items': [{'id': str(i), 'text': str(i)} for i in range(8)]});"
        "print(draw(pool, count=9, seed='abc'), [i['id'] for i in present(q, seed='abc', shuffle=True)['items']])"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        outputs.add(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
    assert len(outputs) == 1
