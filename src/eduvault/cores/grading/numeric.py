"""``numeric``: a number, within a tolerance of the answer or inside a range.

Tolerances follow Open edX's ``numericalresponse``: an answer ``x`` is accepted when
``|x - answer| <= max(absolute_tolerance, relative_tolerance * |answer|,
DEFAULT_RELATIVE_TOLERANCE * |answer|)``, the last term absorbing floating-point noise
(``0.1 + 0.2`` is accepted for ``0.3``). A range is written in interval notation
(``[5, 7)``, ``(0, 1]``): inclusive bounds get the default relative tolerance, exclusive
bounds are exact. The checks here are reused by the numeric blanks of ``fill_blanks``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, Field

from eduvault.cores.grading.base import Grade, Grader, Spec, register
from eduvault.cores.grading.fields import describe
from eduvault.kernel.errors import InvalidAnswer

#: Open edX's default tolerance, '0.001%'.
DEFAULT_RELATIVE_TOLERANCE = 1e-5
#: The tolerance around an answer (or inclusive bound) of exactly zero when none is given.
ZERO_TOLERANCE = 1e-12
#: Slack on the comparison with the tolerance, so that 0.4 is within 0.1 of 0.3.
ROUNDING_SLACK = 1e-9
#: The longest string accepted as a number in an answer.
MAX_NUMBER_LENGTH = 100

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
INTERVAL = re.compile(r"\s*([\[(])\s*([^,\s]*)\s*,\s*([^\])\s]*)\s*([\])])\s*")


@dataclass(frozen=True)
class Interval:
    """An interval of the real line with finite bounds, each closed or open."""

    lower: float
    upper: float
    lower_closed: bool
    upper_closed: bool

    def contains(self, x: float) -> bool:
        above = x >= self.lower - bound_tolerance(self.lower) if self.lower_closed else x > self.lower
        below = x <= self.upper + bound_tolerance(self.upper) if self.upper_closed else x < self.upper
        return above and below

    def example(self) -> float:
        """A number inside the interval."""
        if self.lower_closed:
            return self.lower
        if self.upper_closed:
            return self.upper
        middle = self.lower / 2 + self.upper / 2
        if self.lower < middle < self.upper:
            return middle
        return math.nextafter(self.lower, math.inf)


def bound_tolerance(bound: float) -> float:
    return ZERO_TOLERANCE if bound == 0 else DEFAULT_RELATIVE_TOLERANCE * abs(bound)


@lru_cache(maxsize=1024)
def parse_range(text: str) -> Interval:
    """Parse interval notation (``[5, 7)``); ValueError with a human message otherwise."""
    match = INTERVAL.fullmatch(text)
    if not match:
        raise ValueError(f"not a valid interval: write it like [5, 7) or (0, 1], got {text!r}")
    opening, low, high, closing = match.groups()
    bounds = []
    for token in (low, high):
        if not NUMBER.fullmatch(token):
            raise ValueError(f"the bounds of an interval must be finite numbers, got {token!r}")
        value = float(token)
        if not math.isfinite(value):
            raise ValueError(f"the bounds of an interval must be finite numbers, got {token!r}")
        bounds.append(value)
    lower, upper = bounds
    if not lower < upper:
        raise ValueError(f"the lower bound must be below the upper bound, got {text!r}")
    interval = Interval(lower, upper, opening == "[", closing == "]")
    if not (interval.lower_closed or interval.upper_closed) and math.nextafter(lower, math.inf) >= upper:
        raise ValueError(f"the interval contains no number, got {text!r}")
    return interval


def _check_range(text: str) -> str:
    parse_range(text)
    return text


Range = Annotated[str, Field(max_length=100), AfterValidator(_check_range)]
Tolerance = Annotated[float, Field(ge=0)]


class NumericFields(Protocol):
    """The fields of a numeric answer (a numeric question, or a numeric blank)."""

    @property
    def answer(self) -> float | None: ...
    @property
    def range(self) -> str | None: ...
    @property
    def absolute_tolerance(self) -> float | None: ...
    @property
    def relative_tolerance(self) -> float | None: ...


class NumericBody(Spec):
    answer: float | None = Field(None, description="The correct number (or give a range).")
    range: Range | None = Field(None, description="The correct interval, e.g. '[5, 7)' (or give an answer).")
    absolute_tolerance: Tolerance | None = None
    relative_tolerance: Tolerance | None = Field(None, description="0.05 accepts within 5% of the answer.")


def numeric_problems(spec: NumericFields, prefix: str = "") -> list[str]:
    """Cross-field problems of numeric fields; ``prefix`` is the path to them (``blanks[0].``)."""
    if spec.answer is not None and spec.range is not None:
        return [f"{prefix}range: give either an answer or a range, not both"]
    if spec.answer is None and spec.range is None:
        return [f"{prefix}answer: give exactly one of answer or range"]
    problems = []
    if spec.range is not None:
        for name in ("absolute_tolerance", "relative_tolerance"):
            if getattr(spec, name) is not None:
                problems.append(
                    f"{prefix}{name}: does not apply to a range (its bounds say what is accepted)"
                )
    return problems


def tolerance(spec: NumericFields) -> float:
    """How far from ``spec.answer`` an answer may be."""
    target = abs(spec.answer or 0.0)
    allowed = max(
        spec.absolute_tolerance or 0.0,
        (spec.relative_tolerance or 0.0) * target,
        DEFAULT_RELATIVE_TOLERANCE * target,
    )
    if target == 0 and spec.absolute_tolerance is None:
        allowed = max(allowed, ZERO_TOLERANCE)
    return allowed


def accepts(spec: NumericFields, x: float) -> bool:
    """Whether the number ``x`` is a right answer."""
    if spec.range is not None:
        return parse_range(spec.range).contains(x)
    if spec.answer is None:
        return False
    return abs(x - spec.answer) <= tolerance(spec) * (1 + ROUNDING_SLACK)


def numeric_solution(spec: NumericFields) -> float:
    """A right answer."""
    if spec.range is not None:
        return parse_range(spec.range).example()
    return spec.answer if spec.answer is not None else 0.0


def check_number(answer: Any, what: str = "the answer") -> float:
    """A JSON number, or a string holding a decimal number, as a finite float; else InvalidAnswer."""
    if isinstance(answer, bool) or not isinstance(answer, int | float | str):
        raise InvalidAnswer(f"{what} must be a number, got {describe(answer)}")
    number: int | float | str = answer
    if isinstance(answer, str):
        if len(answer) > MAX_NUMBER_LENGTH:
            raise InvalidAnswer(
                f"{what} must be a number of at most {MAX_NUMBER_LENGTH} characters, got {len(answer)} characters"
            )
        number = answer.strip()
        if not NUMBER.fullmatch(number):
            raise InvalidAnswer(f"{what} must be a number, got {describe(answer)}")
    try:
        value = float(number)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise InvalidAnswer(f"{what} must be a finite number, got {describe(answer)}")
    return value


@register
class NumericGrader(Grader[NumericBody]):
    type = "numeric"
    Body = NumericBody
    answer_schema = {"oneOf": [{"type": "number"}, {"type": "string", "maxLength": MAX_NUMBER_LENGTH}], "description": "A number, or a decimal number written as a string (\"12.5\", \"-3e2\")."}
    answer_example = 12.5

    def validate(self, body: NumericBody) -> list[str]:
        return numeric_problems(body)

    def check_answer(self, body: NumericBody, answer: Any) -> float:
        return check_number(answer)

    def grade(self, body: NumericBody, answer: float) -> Grade:
        right = accepts(body, answer)
        return Grade(score=1.0 if right else 0.0, correct=right)

    def solution(self, body: NumericBody) -> float:
        return numeric_solution(body)
