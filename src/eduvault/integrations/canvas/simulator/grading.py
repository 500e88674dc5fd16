"""Canvas's grade arithmetic, ported line for line so the simulator grades as Canvas does.

Sources (instructure/canvas-lms):

- ``app/models/assignment.rb``: ``interpret_grade``, ``grade_to_score``, ``score_to_grade``,
  ``score_to_grade_percent``, ``compute_grade_and_score``, ``grading_standard_or_default``
  (the assignment's scheme, else the course's, else Canvas's default).
- ``app/models/grading_standard.rb``: ``default_grading_scheme`` (A 94, A- 90, B+ 87, …, F 0),
  ``ordered_scheme``, ``place_in_scheme``, ``grade_to_score`` (a letter is worth the top of its
  band: one point below the next band up, or 0.1 below when the bands are closer than 1%) and
  ``score_to_grade`` (the highest grade whose lower bound the score reaches). BigDecimal there,
  :class:`~decimal.Decimal` here, so 0.545 * 100 is 54.5 and not 54.50000000000001.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

GRADING_TYPES = ("points", "percent", "letter_grade", "gpa_scale", "pass_fail", "not_graded")
POINTED_GRADING_TYPES = ("points", "percent", "letter_grade", "gpa_scale")

#: ``GradingStandard.default_grading_scheme``: (name, lower bound as a fraction).
DEFAULT_SCHEME: tuple[tuple[str, float], ...] = (
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

_NUMERIC_KEY = re.compile(r"\A(\d*[.])?\d+\Z")
_PERCENT = re.compile(r"^[+-]?\d*\.?\d+%$")
_NUMBER = re.compile(r"^[+-]?\d*\.?\d+$")

Scheme = Sequence[tuple[str, float]]


class GradeError(ValueError):
    """A posted grade Canvas cannot turn into a score (answered 400 ``{"error": ...}``)."""


def _ordered(scheme: Scheme) -> list[tuple[str, Decimal]]:
    return sorted(((name, Decimal(str(value))) for name, value in scheme), key=lambda p: -p[1])


def _place_in_scheme(ordered: list[tuple[str, Decimal]], key: str) -> int | None:
    if _NUMERIC_KEY.match(key):
        for i, (name, _) in enumerate(ordered):
            if _NUMERIC_KEY.match(name) and Decimal(name) == Decimal(key):
                return i
        return None
    for candidate in (key, key[:-1] + "-" if len(key) > 1 and key.endswith("−") else None):
        if candidate is None:
            continue
        for i, (name, _) in enumerate(ordered):
            if name.casefold() == candidate.casefold():
                return i
    return None


def scheme_grade_to_score(scheme: Scheme, grade: str) -> Decimal | None:
    """``GradingStandard#grade_to_score``: a scheme grade as a percentage (0-100), or None."""
    ordered = _ordered(scheme)
    idx = _place_in_scheme(ordered, grade)
    if idx is None:
        return None
    if idx == 0:
        return Decimal("100.0")
    above = ordered[idx - 1][1]
    if abs(ordered[idx][1] - above) >= Decimal("0.01"):
        return above * Decimal("100.0") - Decimal("1.0")
    return above * Decimal("100.0") - Decimal("0.1")


def scheme_score_to_grade(scheme: Scheme, percent: float | Decimal) -> str:
    """``GradingStandard#score_to_grade``: the grade for a percentage (0-100)."""
    score = Decimal(str(percent))
    if score < 0:
        score = Decimal(0)
    ordered = _ordered(scheme)
    best = max(ordered, key=lambda p: p[1] if score >= p[1] * 100 else -p[1])
    return best[0]


def ruby_round(value: float, places: int = 2) -> float:
    """Ruby's ``Float#round(2)``: halves round away from zero (Python's round() goes to even)."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def round_if_whole(value: float | str) -> str:
    """Canvas's ``round_if_whole(x).to_s``: 13.0 → "13", 13.5 → "13.5"."""
    if isinstance(value, str):
        return value
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def interpret_grade(
    grading_type: str, points_possible: float | None, scheme: Scheme, grade: str
) -> float | None:
    """``Assignment#interpret_grade``."""
    uses_scheme = grading_type in ("letter_grade", "gpa_scale")
    pp = float(points_possible or 0.0)
    if _PERCENT.match(grade):
        return pp * float(Decimal(grade[:-1]) / Decimal("100.0"))
    if _NUMBER.match(grade):
        if uses_scheme and (standard := scheme_grade_to_score(scheme, grade)) is not None:
            return pp * float(standard) / 100.0
        return float(grade)
    if grade in ("pass", "complete"):
        return pp
    if grade in ("fail", "incomplete"):
        return 0.0
    if uses_scheme and (standard := scheme_grade_to_score(scheme, grade)) is not None:
        return float(Decimal(str(pp)) * standard / Decimal("100.0"))
    return None


def grade_to_score(
    grading_type: str, points_possible: float | None, scheme: Scheme, grade: str
) -> float | None:
    """``Assignment#grade_to_score``: None when the grade means nothing for this assignment."""
    if not grade:
        return None
    parsed = interpret_grade(grading_type, points_possible, scheme, grade)
    if grading_type in POINTED_GRADING_TYPES:
        return parsed
    if grading_type == "pass_fail":
        # only full points or no points for pass_fail assignments
        if parsed is None:
            return None
        if points_possible is not None and parsed == float(points_possible):
            return float(points_possible)
        return 0.0 if parsed == 0.0 else None
    return None  # not_graded


def score_to_grade(
    grading_type: str, points_possible: float | None, scheme: Scheme, score: float, given_grade: str | None
) -> str:
    """``Assignment#score_to_grade``."""
    pp = points_possible
    if grading_type == "percent":
        percent = ruby_round(score / pp * 100.0) if pp and pp > 0 else float(score)
        return f"{round_if_whole(percent)}%"
    if grading_type == "pass_fail":
        passed = score > 0 if pp and pp > 0 else given_grade in ("complete", "pass")
        return "complete" if passed else "incomplete"
    if grading_type in ("letter_grade", "gpa_scale"):
        if pp and float(pp) > 0.0:
            fraction = Decimal(str(score)) / Decimal(str(pp))
            return scheme_score_to_grade(scheme, float(fraction * 100))
        if given_grade:
            return given_grade
        return scheme_score_to_grade(scheme, score)
    return round_if_whole(score)


def compute_grade_and_score(
    grading_type: str, points_possible: float | None, scheme: Scheme, posted_grade: str | None
) -> tuple[str | None, float | None]:
    """``Assignment#compute_grade_and_score``; raises :class:`GradeError` for a grade with no score.

    Canvas documents that such grades are rejected ("The letter grade will be rejected if the
    assignment does not have a defined letter grading scheme"; pass_fail accepts only 0 or
    points possible). An empty grade clears the grade.
    """
    grade = (posted_grade or "").strip() or None
    if grade is None:
        return None, None
    if grading_type == "not_graded":
        raise GradeError("This assignment is not graded")
    score = grade_to_score(grading_type, points_possible, scheme, grade)
    if score is None:
        raise GradeError(f"Invalid grade {grade!r} for a {grading_type} assignment")
    return score_to_grade(grading_type, points_possible, scheme, score, grade), score
