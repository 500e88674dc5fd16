"""Grade scales: reading grades as Canvas does, posting them so the fraction of credit survives."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from eduvault.cores.records.scales import (
    DEFAULT,
    GRADING_TYPES,
    Grade,
    GradingScheme,
    Scale,
    ScaleError,
    fraction,
    posted_grade,
    read,
    rescale,
    same_credit,
)

GPA = GradingScheme.from_canvas(
    [
        {"name": "4.0", "value": 0.93},
        {"name": "3.7", "value": 0.9},
        {"name": "3.3", "value": 0.87},
        {"name": "3.0", "value": 0.83},
        {"name": "2.0", "value": 0.73},
        {"name": "1.0", "value": 0.63},
        {"name": "0.0", "value": 0.0},
    ]
)


# -- the scheme ----------------------------------------------------------------------------------


def test_default_is_canvas_default_grading_scheme() -> None:
    assert DEFAULT.bands == (
        ("A", 0.94),
        ("A-", 0.90),
        ("B+", 0.87),
        ("B", 0.84),
        ("B-", 0.80),
        ("C+", 0.77),
        ("C", 0.74),
        ("C-", 0.70),
        ("D+", 0.67),
        ("D", 0.64),
        ("D-", 0.61),
        ("F", 0.0),
    )
    assert not DEFAULT.points_based and DEFAULT.scaling_factor == 1.0


def test_letter_uses_lower_bounds_without_rounding_at_edges() -> None:
    assert DEFAULT.letter(1.0) == "A"
    assert DEFAULT.letter(0.94) == "A"
    assert DEFAULT.letter(0.9399) == "A-"
    assert DEFAULT.letter(0.93999999) == "A-"
    assert DEFAULT.letter(0.545) == "F"
    assert DEFAULT.letter(0.61) == "D-"
    assert DEFAULT.letter(0.0) == "F"
    assert DEFAULT.letter(-0.5) == "F"  # negative counts as 0
    assert DEFAULT.letter(1.5) == "A"  # extra credit


def test_letter_of_a_score_is_computed_in_decimal() -> None:
    # 28.2 / 30 is 0.9399999999999999 in floats; Canvas divides in BigDecimal: 94%, an A.
    assert DEFAULT.letter_of(28.2, 30) == "A"
    assert DEFAULT.letter_of(0.545 * 100, 100) == "F"


def test_score_fraction_is_the_top_of_the_band_less_a_point() -> None:
    assert DEFAULT.score_fraction("A") == 1.0
    assert DEFAULT.score_fraction("A-") == 0.93
    assert DEFAULT.score_fraction("b") == 0.86
    assert DEFAULT.score_fraction("B\u2212") == 0.83  # minus sign U+2212 read as "-"
    assert DEFAULT.score_fraction("F") == 0.60
    with pytest.raises(ScaleError, match="'E'"):
        DEFAULT.score_fraction("E")


def test_score_fraction_steps_a_tenth_when_bands_are_under_a_point_apart() -> None:
    scheme = GradingScheme((("A", 0.9), ("A-", 0.895), ("B", 0.5), ("F", 0.0)))
    assert scheme.score_fraction("A-") == pytest.approx(0.899)
    assert scheme.score_fraction("B") == pytest.approx(0.885)


def test_points_based_scheme_steps_a_tenth_of_a_point() -> None:
    scheme = GradingScheme.from_canvas(
        {
            "points_based": True,
            "scaling_factor": 4.0,
            "grading_scheme": [
                {"name": "A", "value": 0.9},
                {"name": "B", "value": 0.8},
                {"name": "F", "value": 0},
            ],
        }
    )
    # (0.9 * 4 - 0.1) / 4 = 0.875
    assert scheme.score_fraction("B") == pytest.approx(0.875)


def test_numeric_names_match_numerically_and_only_numeric_names() -> None:
    assert GPA.place("3") == 3
    assert GPA.place("3.00") == 3
    assert GPA.place("4") == 0
    assert GPA.place("2.5") is None
    scheme = GradingScheme((("A", 0.9), ("0", 0.0)))
    assert scheme.place("0") == 1
    assert scheme.place("A") == 0


def test_from_canvas_sorts_rounds_trims_and_validates() -> None:
    scheme = GradingScheme.from_canvas(
        [{"name": " F ", "value": 0}, {"name": "A", "value": 0.900004}, {"name": "B", "value": 0.8}]
    )
    assert scheme.bands == (("A", 0.9), ("B", 0.8), ("F", 0.0))
    assert GradingScheme.from_canvas([["A", 0.5], ["F", 0.0]]).names == ("A", "F")
    bad = [
        [],
        [{"name": "A", "value": 0.5}],  # no 0% band
        [{"name": "A", "value": 0.5}, {"name": "a", "value": 0}],  # names clash ignoring case
        [{"name": "", "value": 0}],
        [{"name": "A", "value": 1.5}, {"name": "F", "value": 0}],
        [{"name": "A", "value": -0.1}, {"name": "F", "value": 0}],
        [{"name": "A", "value": 0.5}, {"name": "B", "value": 0.5}, {"name": "F", "value": 0}],
        [{"name": "A", "value": "high"}, {"name": "F", "value": 0}],
        [{"name": 3, "value": 0}],
        "A",
        {"grading_scheme": None},
        {"scaling_factor": 4, "grading_scheme": [["F", 0]]},  # not points-based
    ]
    for data in bad:
        with pytest.raises(ScaleError):
            GradingScheme.from_canvas(data)


def test_the_constructor_wants_descending_bands() -> None:
    with pytest.raises(ScaleError, match="descending"):
        GradingScheme((("F", 0.0), ("A", 0.9)))


# -- reading -------------------------------------------------------------------------------------


def test_read_points_percent_and_blank() -> None:
    scale = Scale("points", 20)
    assert read("13.5", scale) == Grade(13.5, 20.0, "13.5")
    assert read("7.0", scale).text == "7"
    assert read("40%", scale) == Grade(8.0, 20.0, "8")
    assert read(" 12 ", scale).score == 12.0
    assert read("-2", scale).score == -2.0
    assert read("25", scale).score == 25.0  # extra credit is kept
    assert read("", scale) == Grade(None, 20.0)
    assert read("   ", scale).score is None
    assert read(None, scale).score is None
    assert read(13.25, scale) == Grade(13.25, 20.0, "13.25")


def test_read_percent_scale_shows_two_decimals() -> None:
    scale = Scale("percent", 10)
    assert read("33.333%", scale) == Grade(3.3333, 10.0, "33.33%")
    assert read("5", scale).text == "50%"
    assert read("complete", scale).text == "100%"


def test_read_letters_as_canvas_does() -> None:
    scale = Scale("letter_grade", 10)
    assert read("A-", scale) == Grade(9.3, 10.0, "A-")
    assert read("a-", scale).score == 9.3
    assert read("B", scale) == Grade(8.6, 10.0, "B")
    assert read("F", scale).score == 6.0
    assert read("9.4", scale) == Grade(9.4, 10.0, "A")  # a number is points on a letter scheme
    assert read("91%", scale) == Grade(9.1, 10.0, "A-")
    assert read(9.399, scale).text == "A-"
    with pytest.raises(ScaleError, match=r"'E' is not a grade on a letter_grade scale out of 10 points"):
        read("E", scale)


def test_read_gpa_names_before_points() -> None:
    scale = Scale("gpa_scale", 4, GPA)
    assert read("3", scale).text == "3.0"
    assert read("3", scale).score == pytest.approx(4 * 0.86)
    assert read("2.5", scale).score == 2.5  # no grade named 2.5: points
    assert read("93%", scale).text == "4.0"


def test_read_pass_fail_takes_full_points_or_none() -> None:
    scale = Scale("pass_fail", 5)
    assert read("pass", scale) == Grade(5.0, 5.0, "complete")
    assert read("complete", scale).score == 5.0
    assert read("Complete", scale).score == 5.0  # lenient: Canvas would find no grade
    assert read("fail", scale) == Grade(0.0, 5.0, "incomplete")
    assert read("incomplete", scale).score == 0.0
    assert read("5", scale).score == 5.0
    assert read("100%", scale).score == 5.0
    assert read("0", scale).text == "incomplete"
    assert read(2.0, scale).text == "complete"  # a reported score above zero shows complete
    for partial in ("3", "40%"):
        with pytest.raises(ScaleError, match="full points or none"):
            read(partial, scale)


def test_a_band_named_pass_is_found_only_in_another_case() -> None:
    scheme = GradingScheme((("Pass", 0.5), ("Fail", 0.0)))
    scale = Scale("letter_grade", 10, scheme)
    assert read("pass", scale).score == 10.0  # Canvas: the keyword, full points
    assert read("Pass", scale).score == 10.0  # the band: top of the scheme
    assert read("Fail", scale) == Grade(4.9, 10.0, "Fail")


def test_zero_points_possible_keeps_the_given_grade() -> None:
    assert read("b", Scale("letter_grade", 0)) == Grade(0.0, 0.0, "B")
    assert read("pass", Scale("pass_fail", 0)) == Grade(0.0, 0.0, "complete")
    assert read("fail", Scale("pass_fail", 0)).text == "incomplete"


def test_not_graded_reads_nothing() -> None:
    scale = Scale("not_graded", 0)
    assert read("A", scale) == Grade(None, 0.0)
    assert read(3.0, scale).score is None


def test_read_refuses_what_is_no_grade() -> None:
    points = Scale("points", 10)
    for bad in ("A", "1e3", "12,5", "5.", "%", "abc", "9" * 400, "9" * 400 + "%", "١٢"):
        with pytest.raises(ScaleError):
            read(bad, points)
    for value in (math.nan, math.inf, True):
        with pytest.raises(ScaleError):
            read(value, points)
    with pytest.raises(ScaleError):
        read(["A"], points)  # type: ignore[arg-type]


def test_long_input_is_read_in_linear_time() -> None:
    # Canvas's pattern (\d*\.?\d+%) backtracks quadratically on a long run of digits without the %.
    scale = Scale("letter_grade", 10)
    for text in ("9" * 200_000 + "x", "9" * 200_000 + "%", "1." * 100_000):
        with pytest.raises(ScaleError):
            read(text, scale)


def test_scale_and_grade_validate() -> None:
    for args in (("stars", 10), ("points", -1), ("points", math.nan), ("points", True)):
        with pytest.raises(ScaleError):
            Scale(*args)  # type: ignore[arg-type]
    with pytest.raises(ScaleError):
        Grade(math.inf, 10)
    with pytest.raises(ScaleError):
        Grade(1.0, -1)
    assert set(GRADING_TYPES) == {"points", "percent", "letter_grade", "gpa_scale", "pass_fail", "not_graded"}


# -- posting -------------------------------------------------------------------------------------


def test_posted_grade_for_each_type() -> None:
    grade = Grade(27.0, 40)  # 67.5%
    assert posted_grade(grade, Scale("points", 20)) == "13.5"
    assert posted_grade(Grade(7, 10), Scale("points", 10)) == "7"
    assert posted_grade(Grade(1, 3), Scale("points", 10)) == "3.33"
    assert posted_grade(grade, Scale("percent", 10)) == "67.5%"
    assert posted_grade(Grade(1, 3), Scale("percent", 10)) == "33.33%"
    assert posted_grade(grade, Scale("letter_grade", 10)) == "6.75"
    assert posted_grade(grade, Scale("pass_fail", 1)) == "complete"
    assert posted_grade(Grade(0, 40), Scale("pass_fail", 1)) == "incomplete"
    assert posted_grade(grade, Scale("not_graded", 0)) is None
    assert posted_grade(Grade(None, 40), Scale("points", 10)) is None


def test_letter_targets_get_points_inside_the_band() -> None:
    scale = Scale("letter_grade", 10)
    # 93.99% is an A-; rounding 9.399 half-up to 9.40 would make it an A, so 9.39 is sent.
    assert posted_grade(Grade(93.99, 100), scale) == "9.39"
    assert read("9.39", scale).text == "A-"
    # Sending the letter would have stored 9.3 (the top of A- less a point).
    assert read("A-", scale).score == 9.3


def test_numeric_names_get_a_percentage() -> None:
    scale = Scale("gpa_scale", 4, GPA)
    posted = posted_grade(Grade(3, 4), scale)
    assert posted == "75%"
    assert read(posted, scale).score == 3.0
    assert read(posted_grade(Grade(2, 3), scale), scale).score == pytest.approx(2.67, abs=1e-6)


def test_zero_points_possible_targets() -> None:
    assert posted_grade(Grade(9, 10), Scale("letter_grade", 0)) == "A-"
    assert posted_grade(Grade(9, 10), Scale("pass_fail", 0)) == "complete"
    with pytest.raises(ScaleError):
        posted_grade(Grade(9, 10), Scale("points", 0))
    with pytest.raises(ScaleError, match="out of 0"):
        posted_grade(Grade(2, 0), Scale("points", 10))
    assert posted_grade(Grade(2, 0), Scale("pass_fail", 10)) == "complete"


def test_rescale_and_fraction() -> None:
    assert rescale(Grade(27, 40, "27"), 20) == Grade(13.5, 20)
    assert rescale(Grade(None, 40), 20) == Grade(None, 20)
    with pytest.raises(ScaleError):
        rescale(Grade(1, 0), 10)
    assert fraction(Grade(28.2, 30)) == 0.94
    assert fraction(Grade(None, 30)) is None
    assert fraction(Grade(3, 0)) is None


def test_same_credit() -> None:
    assert same_credit(Grade(13.5, 20), Grade(27, 40))
    assert not same_credit(Grade(13.5, 20), Grade(27.1, 40))
    assert same_credit(Grade(None, 20), Grade(None, 40))
    assert not same_credit(Grade(None, 20), Grade(0, 40))
    # 1/3 posted to 10 points is stored as 3.33: not the same fraction to 4 places, but the
    # same on that scale, so the write-back is skipped.
    ten = Scale("points", 10)
    stored = read(posted_grade(Grade(1, 3), ten), ten)
    assert not same_credit(Grade(1, 3), stored)
    assert same_credit(Grade(1, 3), stored, on=ten)
    # Pass/fail compares pass or fail.
    assert same_credit(Grade(7, 10), Grade(1, 1), on=Scale("pass_fail", 1))
    assert not same_credit(Grade(0, 10), Grade(1, 1), on=Scale("pass_fail", 1))
    assert same_credit(Grade(3, 0), Grade(3, 0))
    assert not same_credit(Grade(3, 0), Grade(3, 10))


# -- properties ----------------------------------------------------------------------------------

maxima = st.floats(min_value=1, max_value=1000, allow_nan=False).map(lambda x: round(x, 2))
scores = st.floats(min_value=-50, max_value=1200, allow_nan=False, allow_infinity=False)


@st.composite
def schemes(draw: st.DrawFn) -> GradingScheme:
    """Letter schemes with bands at least a point apart."""
    cuts = draw(st.sets(st.integers(1, 99), min_size=0, max_size=10))
    values = [*sorted(cuts, reverse=True), 0]
    numeric = draw(st.booleans())
    names = [f"{len(values) - i}.0" if numeric else f"G{i}" for i in range(len(values))]
    return GradingScheme(tuple((name, value / 100) for name, value in zip(names, values, strict=True)))


@st.composite
def grades(draw: st.DrawFn) -> Grade:
    maximum = draw(maxima)
    return Grade(draw(st.floats(min_value=-0.1, max_value=1.3).map(lambda f: round(f * maximum, 4))), maximum)


@st.composite
def scales(draw: st.DrawFn, types: tuple[str, ...] = GRADING_TYPES) -> Scale:
    kind = draw(st.sampled_from(types))
    scheme = draw(st.one_of(st.none(), schemes())) if kind in ("letter_grade", "gpa_scale") else None
    return Scale(kind, draw(maxima), scheme)


@given(grades(), maxima)
def test_rescale_round_trips(grade: Grade, maximum: float) -> None:
    back = rescale(rescale(grade, maximum), grade.maximum)
    assert back.score == pytest.approx(grade.score, rel=1e-12, abs=1e-9)
    assert fraction(rescale(grade, maximum)) == pytest.approx(fraction(grade), rel=1e-12, abs=1e-12)


@given(grades(), scales(("points", "percent", "letter_grade", "gpa_scale")))
@settings(max_examples=300)
def test_posting_then_reading_keeps_the_fraction(grade: Grade, target: Scale) -> None:
    posted = posted_grade(grade, target)
    assert posted is not None
    back = read(posted, target)
    f, g = fraction(grade), fraction(back)
    assert f is not None and g is not None
    if target.grading_type == "points":
        assert abs(f - g) <= 0.005 / target.points_possible + 1e-9
    elif target.grading_type == "percent":
        assert abs(f - g) <= 0.00005 + 1e-9
    else:
        scheme = target.effective_scheme
        assert back.text == scheme.letter_of(grade.score, grade.maximum)  # the same band
        assert abs(f - g) <= 0.01 / target.points_possible + 1e-9
    # What was posted, read back, is the same credit on that scale: no write loop.
    assert same_credit(grade, back, on=target)
    assert posted_grade(back, target) == posted


@given(grades(), scales(("pass_fail",)))
def test_pass_fail_posts_what_canvas_shows(grade: Grade, target: Scale) -> None:
    posted = posted_grade(grade, target)
    back = read(posted, target)
    assert back.text == posted == ("complete" if grade.score and grade.score > 0 else "incomplete")
    assert same_credit(grade, back, on=target)


@given(schemes(), st.floats(-1, 2, allow_nan=False), st.floats(-1, 2, allow_nan=False))
def test_letter_is_monotonic(scheme: GradingScheme, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert scheme.names.index(scheme.letter(low)) >= scheme.names.index(scheme.letter(high))


@given(schemes(), st.data())
def test_a_posted_letter_lands_in_its_band(scheme: GradingScheme, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(scheme.names))
    assert scheme.letter(scheme.score_fraction(name)) == name


@given(st.one_of(st.text(), st.from_regex(r"\s*[+-]?[0-9]{0,4}\.?[0-9]{1,4}%?\s*")), scales())
@settings(max_examples=400)
def test_read_raises_only_scale_errors(text: str, scale: Scale) -> None:
    try:
        grade = read(text, scale)
    except ScaleError:
        return
    assert grade.score is None or math.isfinite(grade.score)


@given(st.floats(), scales())
def test_read_numbers_raises_only_scale_errors(value: float, scale: Scale) -> None:
    try:
        read(value, scale)
    except ScaleError:
        assume(not math.isfinite(value))
