"""Properties over random valid questions of every type, and of draws."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from eduvault.cores.grading import draw, grade_try, parse_question, present, question_types, solution
from eduvault.kernel.errors import InvalidAnswer

from .helpers import SECRET_KEYS, keys_of
from .strategies import STRATEGIES, pools, questions


def test_every_type_has_a_strategy():
    assert sorted(STRATEGIES) == question_types()


@settings(max_examples=500, deadline=None)
@given(questions())
def test_documents_round_trip(document):
    q = parse_question(document)
    stored = json.loads(json.dumps(q.document, allow_nan=False))
    assert parse_question(stored) == q


@settings(max_examples=500, deadline=None)
@given(questions(), st.integers(1, 5))
def test_the_solution_gets_full_credit(document, try_number):
    q = parse_question(document)
    answer = json.loads(json.dumps(solution(q)))  # as it comes back from a client
    result = grade_try(q, answer, try_number=try_number)
    assert result.raw_score == 1.0
    assert result.correct
    assert math.isclose(result.score, max(0.0, 1.0 - q.penalty * (try_number - 1)), abs_tol=1e-9)
    assert 0.0 <= result.score <= 1.0


@settings(max_examples=500, deadline=None)
@given(questions(), st.text(max_size=8), st.booleans())
def test_present_never_leaks_and_is_deterministic(document, seed, shuffle):
    q = parse_question(document)
    view = present(q, seed=seed, shuffle=shuffle)
    json.dumps(view)
    assert set(view) >= {"id", "type", "prompt", "points"}
    leaked = keys_of(view) & SECRET_KEYS
    assert not leaked, leaked
    assert present(q, seed=seed, shuffle=shuffle) == view
    assert present(parse_question(q.document), seed=seed, shuffle=shuffle) == view


@settings(max_examples=300, deadline=None)
@given(STRATEGIES["ordering"](), st.text(max_size=8))
def test_ordering_never_shown_in_order(document, seed):
    q = parse_question(document)
    shown = [item["id"] for item in present(q, seed=seed, shuffle=False)["items"]]
    assert shown != solution(q)
    assert sorted(shown) == sorted(solution(q))


@settings(max_examples=500, deadline=None)
@given(pools(), st.one_of(st.none(), st.integers(0, 80)), st.text(max_size=8))
def test_draw(pool, count, seed):
    drawn = draw(pool, count=count, seed=seed)
    flat = [i for ids in pool.values() for i in ids]
    total = len(flat)
    assert len(drawn) == (total if count is None else min(count, total))
    assert len(set(drawn)) == len(drawn)
    # A subset of the pool, grouped by subtopic in pool order, each group in bank order.
    positions = [flat.index(i) for i in drawn]
    assert positions == sorted(positions)
    assert draw(pool, count=count, seed=seed) == drawn
    non_empty = [sub for sub, ids in pool.items() if ids]
    if count is not None and count >= len(non_empty):
        represented = {sub for sub, ids in pool.items() if set(ids) & set(drawn)}
        assert represented == set(non_empty)
    if count is not None and count < total:
        for ids in pool.values():
            taken = len(set(ids) & set(drawn))
            assert taken <= max(1, math.ceil(count * len(ids) / total))


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=5)
    | st.sampled_from(["1e3", " 2 "]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=12,
)


def ids_in(document: dict) -> list[str]:
    found = []
    for key in ("choices", "items", "prompts", "options", "blanks"):
        found += [entry["id"] for entry in document.get(key, [])]
    return found or ["x"]


@settings(max_examples=500, deadline=None)
@given(questions(), st.data())
def test_any_answer_grades_or_is_invalid(document, data):
    """Malformed answers raise InvalidAnswer and nothing else; well-formed ones grade within [0, 1]."""
    q = parse_question(document)
    known = st.sampled_from(ids_in(document))
    value = JSON | known
    answer = data.draw(
        st.one_of(
            JSON,
            st.lists(value, max_size=6),
            st.dictionaries(st.one_of(known, st.text(max_size=3)), value, max_size=6),
            st.just(solution(q)),
        )
    )
    try:
        result = grade_try(q, answer, try_number=data.draw(st.integers(1, 4)))
    except InvalidAnswer as exc:
        assert exc.detail and len(exc.detail) < 2000
    else:
        assert 0.0 <= result.score <= result.raw_score <= 1.0
        assert result.correct is (result.raw_score == 1.0)
