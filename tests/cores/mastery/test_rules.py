"""Mastery rules: the registry, spec validation and each rule's decision (no database)."""

from __future__ import annotations

import pytest

from eduvault.cores.mastery import BktThreshold, MOfN, Streak, rule_from_spec, rule_names
from eduvault.kernel.errors import InvalidInput

T, F = True, False


def test_registry():
    assert rule_names() == ["bkt", "m_of_n", "streak"]
    assert rule_from_spec(None) == BktThreshold(threshold=0.95)
    assert rule_from_spec({"rule": "bkt"}) == BktThreshold(0.95)
    assert rule_from_spec({"rule": "m_of_n", "m": 3, "n": 5}) == MOfN(m=3, n=5)
    assert rule_from_spec({"rule": "streak", "n": 3}) == Streak(n=3)


@pytest.mark.parametrize(
    "spec",
    [
        {"rule": "bkt", "threshold": 0.95},
        {"rule": "bkt", "threshold": 1.0},
        {"rule": "m_of_n", "m": 3, "n": 5},
        {"rule": "m_of_n", "m": 100, "n": 100},
        {"rule": "streak", "n": 1},
    ],
)
def test_spec_round_trip(spec):
    rule = rule_from_spec(spec)
    assert rule.to_spec() == spec
    assert rule_from_spec(rule.to_spec()) == rule


@pytest.mark.parametrize(
    ("spec", "window"),
    [({"rule": "bkt"}, 0), ({"rule": "m_of_n", "m": 3, "n": 5}, 5), ({"rule": "streak", "n": 4}, 4)],
)
def test_window(spec, window):
    assert rule_from_spec(spec).window == window


@pytest.mark.parametrize(
    ("threshold", "p_known", "mastered"),
    [(0.95, 0.95, True), (0.95, 0.9499, False), (0.95, 1.0, True), (0.5, 0.6, True), (1.0, 0.999, False)],
)
def test_bkt_rule(threshold, p_known, mastered):
    rule = rule_from_spec({"rule": "bkt", "threshold": threshold})
    assert rule.mastered(p_known=p_known, recent=[]) is mastered
    assert rule.mastered(p_known=p_known, recent=[T, T, T, T, T]) is mastered  # outcomes do not matter


@pytest.mark.parametrize(
    ("m", "n", "recent", "mastered"),
    [
        (3, 5, [T, T, T], True),
        (3, 5, [T, F, T, F, T], True),
        (3, 5, [T, F, T, F, F], False),
        (3, 5, [T, T], False),  # too few answers yet
        (3, 5, [T, T, T, F, F, F], False),  # only the last 5 count: T T F F F
        (3, 5, [T, T, F, T, F, F], False),
        (3, 5, [F, F, T, T, T], True),
        (1, 1, [F, T], True),
        (1, 1, [T, F], False),
        (2, 2, [], False),
    ],
)
def test_m_of_n_rule(m, n, recent, mastered):
    rule = rule_from_spec({"rule": "m_of_n", "m": m, "n": n})
    assert rule.mastered(p_known=0.0, recent=recent) is mastered
    assert rule.mastered(p_known=1.0, recent=recent) is mastered  # p_known does not matter


@pytest.mark.parametrize(
    ("n", "recent", "mastered"),
    [
        (3, [T, T, T], True),
        (3, [F, T, T, T], True),
        (3, [T, T, T, F], False),
        (3, [T, T], False),
        (3, [T, F, T], False),
        (3, [], False),
        (1, [F, T], True),
        (1, [T, F], False),
    ],
)
def test_streak_rule(n, recent, mastered):
    rule = rule_from_spec({"rule": "streak", "n": n})
    assert rule.mastered(p_known=0.99, recent=recent) is mastered
    assert rule.mastered(p_known=0.0, recent=tuple(recent)) is mastered


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            {"rule": "bkt", "threshold": 0},
            "threshold",
            "threshold must be greater than 0 and at most 1, got 0",
        ),
        ({"rule": "bkt", "threshold": 1.01}, "threshold", "threshold must be greater than 0"),
        ({"rule": "bkt", "threshold": "high"}, "threshold", "threshold must be a number"),
        ({"rule": "bkt", "threshold": True}, "threshold", "threshold must be a number"),
        ({"rule": "bkt", "m": 3}, "m", "unknown field 'm' for mastery rule 'bkt'"),
        ({"rule": "m_of_n", "m": 6, "n": 5}, "m", "m must not exceed n, got m=6 and n=5"),
        ({"rule": "m_of_n", "m": 0, "n": 5}, "m", "m must be between 1 and 100, got 0"),
        ({"rule": "m_of_n", "m": 1, "n": 0}, "n", "n must be between 1 and 100, got 0"),
        ({"rule": "m_of_n", "m": 1, "n": 101}, "n", "n must be between 1 and 100, got 101"),
        ({"rule": "m_of_n", "m": 2.5, "n": 5}, "m", "m must be an integer, got 2.5"),
        ({"rule": "m_of_n", "n": 5}, "m", "mastery rule 'm_of_n' needs m"),
        ({"rule": "streak", "n": 0}, "n", "n must be between 1 and 100, got 0"),
        ({"rule": "streak", "n": "3"}, "n", "n must be an integer"),
        ({"rule": "streak"}, "n", "mastery rule 'streak' needs n"),
        ({"rule": "streak", "n": 3, "m": 1}, "m", "unknown field 'm' for mastery rule 'streak'"),
        (
            {"rule": "mastery_model"},
            "rule",
            "unknown mastery rule 'mastery_model'; known rules: bkt, m_of_n, streak",
        ),
        ({"rule": 3}, "rule", "unknown mastery rule 3"),
        ({"threshold": 0.9}, "rule", "a mastery rule needs 'rule', one of: bkt, m_of_n, streak"),
        (["bkt"], "rule", "a mastery rule must be an object"),
    ],
)
def test_invalid_specs_name_the_field(spec, field, message):
    with pytest.raises(InvalidInput) as caught:
        rule_from_spec(spec)
    assert message in caught.value.detail
    assert caught.value.context["field"] == field
    assert caught.value.status == 400


def test_constructors_validate_too():
    with pytest.raises(InvalidInput, match="m must not exceed n"):
        MOfN(m=4, n=3)
    with pytest.raises(InvalidInput, match="n must be between 1 and 100"):
        Streak(n=0)
    with pytest.raises(InvalidInput, match="threshold"):
        BktThreshold(threshold=0.0)
