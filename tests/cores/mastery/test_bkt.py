"""The online BKT update in plain floats (no database, no pyBKT)."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eduvault.cores.mastery import (
    DEFAULT_PARAMS,
    BktParams,
    parse_answers,
    posterior,
    predict_correct,
    trace,
    transition,
    update,
)
from eduvault.kernel.errors import InvalidInput

# prior 0.3, learn 0.1, guess 0.2, slip 0.1 as exact fractions for the hand computations.
PRIOR, LEARN, GUESS, SLIP = Fraction(3, 10), Fraction(1, 10), Fraction(2, 10), Fraction(1, 10)
PARAMS = BktParams(prior=0.3, learn=0.1, guess=0.2, slip=0.1)


def close(a: float, b: Fraction | float) -> bool:
    return math.isclose(a, float(b), rel_tol=0, abs_tol=1e-12)


# -- hand-computed examples ---------------------------------------------------------------


def test_posterior_after_a_correct_answer():
    # p(1-slip) / (p(1-slip) + (1-p)guess) = 0.27 / (0.27 + 0.14) = 27/41
    assert Fraction(27, 100) == PRIOR * (1 - SLIP)
    assert Fraction(14, 100) == (1 - PRIOR) * GUESS
    assert close(posterior(0.3, True, PARAMS), Fraction(27, 41))


def test_posterior_after_a_wrong_answer():
    # p·slip / (p·slip + (1-p)(1-guess)) = 0.03 / (0.03 + 0.56) = 3/59
    assert Fraction(3, 100) == PRIOR * SLIP
    assert Fraction(56, 100) == (1 - PRIOR) * (1 - GUESS)
    assert close(posterior(0.3, False, PARAMS), Fraction(3, 59))


def test_transition_adds_the_learning_chance_of_the_unknown_part():
    # 0.3 + 0.7 * 0.1 = 0.37
    assert close(transition(0.3, PARAMS), Fraction(37, 100))
    assert transition(1.0, PARAMS) == 1.0
    assert close(transition(0.0, PARAMS), LEARN)


def test_update_is_posterior_then_transition():
    # correct: 27/41 + (14/41)(1/10) = 284/410 = 142/205
    assert close(update(0.3, True, PARAMS), Fraction(142, 205))
    # wrong: 3/59 + (56/59)(1/10) = 86/590 = 43/295
    assert close(update(0.3, False, PARAMS), Fraction(43, 295))


def test_trace_of_1011_by_hand():
    # after 1: posterior 27/41, then 27/41 + (14/41)/10                      = 142/205
    # after 0: p=142/205; posterior (142/2050) / (142/2050 + (63/205)(8/10))
    #          = 142/646 = 71/323, then 71/323 + (252/323)/10               = 481/1615
    # after 1: p=481/1615; posterior (4329/16150) / (4329/16150 + 2268/16150)
    #          = 4329/6597 = 481/733, then 481/733 + (252/733)/10           = 2531/3665
    # after 1: p=2531/3665; posterior (22779/36650) / (22779/36650 + 2268/36650)
    #          = 22779/25047 = 2531/2783, then 2531/2783 + (252/2783)/10    = 12781/13915
    expected = [Fraction(142, 205), Fraction(481, 1615), Fraction(2531, 3665), Fraction(12781, 13915)]
    values = trace(PARAMS, [1, 0, 1, 1])
    assert len(values) == 4
    assert all(close(v, e) for v, e in zip(values, expected, strict=True))


def exact_trace(prior: Fraction, learn: Fraction, guess: Fraction, slip: Fraction, answers) -> list[Fraction]:
    """An independent, exact reference: the forward step written out in fractions."""
    p, out = prior, []
    for answer in answers:
        if answer:
            p = p * (1 - slip) / (p * (1 - slip) + (1 - p) * guess)
        else:
            p = p * slip / (p * slip + (1 - p) * (1 - guess))
        p = p + (1 - p) * learn
        out.append(p)
    return out


def test_trace_matches_the_exact_reference_on_a_longer_sequence():
    answers = [0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1]
    expected = exact_trace(PRIOR, LEARN, GUESS, SLIP, answers)
    assert exact_trace(PRIOR, LEARN, GUESS, SLIP, [1, 0, 1, 1])[-1] == Fraction(12781, 13915)
    assert all(close(v, e) for v, e in zip(trace(PARAMS, answers), expected, strict=True))


def test_trace_accepts_bools_and_starts_from_the_prior():
    assert trace(PARAMS, [True, False, True, True]) == trace(PARAMS, [1, 0, 1, 1])
    assert trace(PARAMS, []) == []
    assert trace(PARAMS, iter([1])) == [update(0.3, True, PARAMS)]


@pytest.mark.parametrize("bad", [2, -1, "1", 0.5, None])
def test_trace_rejects_answers_other_than_0_and_1(bad):
    with pytest.raises(InvalidInput, match="answer 2 must be 0 or 1"):
        trace(PARAMS, [1, bad])


def test_predict_correct():
    # 0.3 * 0.9 + 0.7 * 0.2 = 0.41
    assert close(predict_correct(0.3, PARAMS), Fraction(41, 100))
    assert close(predict_correct(1.0, PARAMS), 1 - SLIP)
    assert close(predict_correct(0.0, PARAMS), GUESS)


def test_an_impossible_answer_leaves_the_estimate_unchanged():
    never_guesses = BktParams(prior=0.0, learn=0.0, guess=0.0, slip=0.1)
    assert posterior(0.0, True, never_guesses) == 0.0  # 0·0.9 / (0·0.9 + 1·0): no division by zero
    never_slips = BktParams(prior=1.0, learn=0.0, guess=0.2, slip=0.0)
    assert posterior(1.0, False, never_slips) == 1.0
    assert posterior(0.5, True, never_guesses) == 1.0


# -- parameters ------------------------------------------------------------------------------


def test_params_round_trip_and_default():
    assert BktParams.from_dict(PARAMS.to_dict()) == PARAMS
    assert PARAMS.to_dict() == {"prior": 0.3, "learn": 0.1, "guess": 0.2, "slip": 0.1}
    assert BktParams(prior=0.2, learn=0.15, guess=0.2, slip=0.1) == DEFAULT_PARAMS
    assert isinstance(BktParams(prior=1, learn=0, guess=0, slip=0).prior, float)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("guess", 1.5, "guess must be between 0 and 1, got 1.5"),
        ("prior", -0.1, "prior must be between 0 and 1, got -0.1"),
        ("slip", math.nan, "slip must be between 0 and 1, got nan"),
        ("learn", math.inf, "learn must be between 0 and 1, got inf"),
        ("learn", "0.1", "learn must be a number between 0 and 1, got '0.1'"),
        ("prior", True, "prior must be a number"),
        ("slip", None, "slip must be a number"),
    ],
)
def test_params_are_validated_naming_the_parameter(field, value, message):
    values = PARAMS.to_dict() | {field: value}
    with pytest.raises(InvalidInput, match=re.escape(message)) as caught:
        BktParams(**values)
    assert caught.value.context["field"] == field
    assert caught.value.status == 400 and caught.value.exit_code == 2


def test_from_dict_names_missing_and_unknown_keys():
    with pytest.raises(InvalidInput, match="lack slip"):
        BktParams.from_dict({"prior": 0.1, "learn": 0.1, "guess": 0.1})
    with pytest.raises(InvalidInput, match="unknown BKT parameter 'forget'"):
        BktParams.from_dict(PARAMS.to_dict() | {"forget": 0.0})
    with pytest.raises(InvalidInput, match="must be an object"):
        BktParams.from_dict([0.1, 0.1, 0.1, 0.1])  # type: ignore[arg-type]


def test_params_are_frozen():
    with pytest.raises(AttributeError):
        PARAMS.prior = 0.5  # type: ignore[misc]


# -- parse_answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answers"),
    [("1,0,1,1", [1, 0, 1, 1]), (" 1 , 0,1 ", [1, 0, 1]), ("0", [0]), ("", []), ("  ", [])],
)
def test_parse_answers(text, answers):
    assert parse_answers(text) == answers


@pytest.mark.parametrize(
    ("text", "item"), [("1,2,0", "'2'"), ("1,,0", "''"), ("1;0", "'1;0'"), ("yes", "'yes'"), ("1,0,", "''")]
)
def test_parse_answers_names_the_offending_item(text, item):
    with pytest.raises(InvalidInput, match=f"answers: {item} is not 0 or 1"):
        parse_answers(text)


# -- properties ------------------------------------------------------------------------------

probability = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def params(draw, *, informative: bool = False):
    guess, slip = draw(probability), draw(probability)
    if informative:  # guess + slip < 1: a correct answer is likelier from a learner who knows the skill
        guess = draw(st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
        slip = draw(st.floats(min_value=0.0, max_value=1.0 - guess, exclude_max=True))
    return BktParams(prior=draw(probability), learn=draw(probability), guess=guess, slip=slip)


@given(params(), st.lists(st.booleans(), max_size=60))
def test_trace_stays_a_probability(p, answers):
    assert all(0.0 <= value <= 1.0 for value in trace(p, answers))


@given(params(informative=True), probability)
def test_a_correct_answer_never_lowers_the_estimate(p, p_known):
    assert posterior(p_known, True, p) >= p_known - 1e-12
    assert update(p_known, True, p) >= p_known - 1e-12
    assert posterior(p_known, False, p) <= p_known + 1e-12


@given(params(), probability, probability, st.booleans())
def test_update_is_monotone_in_the_estimate(p, a, b, correct):
    low, high = min(a, b), max(a, b)
    assert update(low, correct, p) <= update(high, correct, p) + 1e-12
