"""Grade scales: carrying a grade between platforms that grade on different scales, so that
each ends with the same *fraction* of credit. Pure Python, standard library only.

The canonical value is a :class:`Grade`: a score in points out of a maximum, and the grade
text as the platform shows it. :func:`read` interprets what a platform reports (or what a
person typed) on a :class:`Scale`; :func:`posted_grade` is what to send Canvas as
``submission[posted_grade]`` for a target scale; :func:`same_credit` says whether a platform
already holds a value, so that writing back an equal value is skipped and no write loop can
start between two platforms.

Where each rule comes from (canvas-lms, read from its source as stored in the public index):

``app/models/assignment.rb``
    * ``ALLOWED_GRADING_TYPES``: points, percent, letter_grade, gpa_scale, pass_fail,
      not_graded (:data:`GRADING_TYPES`).
    * ``interpret_grade``: a string matching ``^[+-]?\\d*\\.?\\d+%$`` is a percentage of points
      possible, checked first; one matching ``^[+-]?\\d*\\.?\\d+$`` is points, except that on a
      letter_grade or gpa_scale assignment it is first looked up as a grade *name* of the scheme
      (GPA schemes name their grades "4.0", "3.7", ...); ``"pass"``/``"complete"`` are full
      points and ``"fail"``/``"incomplete"`` zero (compared case-sensitively); anything else is
      tried as a letter of the scheme on letter_grade/gpa_scale, and is no grade otherwise.
    * ``grade_to_score``: blank is no grade; pass_fail keeps only full points or zero (any
      other value is no grade); not_graded never has a score.
    * ``score_to_grade``: points show the score (``round_if_whole``: "7", not "7.0"); percent
      shows ``(score / points_possible * 100).round(2)`` with a "%"; pass_fail shows "complete"
      when the score is above zero (on an assignment with points possible), else "incomplete";
      letter_grade/gpa_scale show the scheme's letter of ``score / points_possible * 100``,
      computed in BigDecimal; with zero points possible the grade as given is kept.
    * ``update_student_submissions``: when grades are regraded on a pass_fail assignment, a
      "complete" gets full points.
    * ``grading_standard_or_default``: the assignment's scheme, else the course's, else
      ``GradingStandard.default_instance`` (so a :class:`Scale` without a scheme uses
      :data:`DEFAULT`).

``app/models/grading_standard.rb``
    * ``default_grading_scheme``: A 0.94, A- 0.90, B+ 0.87, B 0.84, B- 0.80, C+ 0.77, C 0.74,
      C- 0.70, D+ 0.67, D 0.64, D- 0.61, F 0.0 (:data:`DEFAULT`).
    * Version 2 data: each value is the band's *lower bound* as a fraction ("anything >= 94 is
      an A, and anything < 94 and >= 89.5 is an A-"); ``data=`` rounds values to 4 decimals.
    * ``score_to_grade``: a negative score counts as 0; the grade is the highest band whose
      lower bound * 100 is <= the score, compared exactly in BigDecimal: no rounding at band
      edges (93.99% is an A-, 94% an A).
    * ``grade_to_score`` / ``place_in_scheme``: a letter is found case-insensitively
      (``casecmp?``), with a trailing minus sign U+2212 read as "-"; a numeric key matches only
      numerically named bands. The top band scores 100%; any other scores the band *above*'s
      lower bound less one percentage point (less 0.1 when the bands are under a point apart;
      for points-based schemes, less 0.1 point of the scaling factor): "B" is 86%, "A-" 93%,
      "F" 60%. So a letter posted to Canvas lands near the top of its band, not at the score it
      came from.
    * Validations: values not negative and not duplicated, and "grading schemes must have 0%
      for the lowest grade"; the scaling factor is 1 unless the scheme is points-based.

Canvas's API documentation of ``GradingSchemeEntry`` says the same of values: the lower bound
of the band, the lowest being 0.

Not verified, and so decided here: that values are at most 1 (Canvas's model checks only
that they are not negative; the editor works in 0..100%), so :class:`GradingScheme` requires
[0, 1]; that scores are stored to 2 decimals (the brief's statement; Canvas's model stores the
float it computes), so points are posted rounded half-up to 2 decimals; and what Canvas's
JavaScript gradebook shows at band edges (its own rounding may differ from the server's).
The keywords pass/complete/fail/incomplete are also accepted in other letter cases here,
but only where Canvas would have found no grade at all.

Decisions (see :func:`posted_grade`): letters are never posted, since Canvas would turn a
letter into the top of its band and lose the score; points are posted instead, chosen inside
the same band, or a precise percentage when the scheme names its grades with numbers. A
fraction carried onto a pass_fail assignment is "complete" when above zero, as Canvas itself
shows such a score.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from functools import wraps
from typing import Any, ParamSpec, TypeVar

GRADING_TYPES = ("points", "percent", "letter_grade", "gpa_scale", "pass_fail", "not_graded")
#: The grading types shown with a grading scheme's letters.
SCHEME_TYPES = ("letter_grade", "gpa_scale")

#: Canvas's ``interpret_grade`` patterns (``\d`` in Ruby is ASCII only).
#: Written without nested repetition (``\d*\.?\d+`` is ambiguous, and quadratic on long input).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
#: ``place_in_scheme``: a grade name that is a number ("4.0", "3").
_NUMERIC_NAME = re.compile(r"(?:[0-9]*[.])?[0-9]+")
_FULL_CREDIT = ("pass", "complete")
_NO_CREDIT = ("fail", "incomplete")
_MINUS_SIGN = "\u2212"

_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")
#: Posted percentages on schemes with numeric names: fine enough to land on the same points.
_FINE = Decimal("0.000001")


class ScaleError(ValueError):
    """A grade that cannot be read, or carried, on a scale."""


#: Decimal arithmetic precise enough for any float written out in full (about 310 digits).
_CONTEXT = Context(prec=400, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _in_decimal(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``function`` in :data:`_CONTEXT`, whatever the caller's decimal context."""

    @wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(_CONTEXT):
            return function(*args, **kwargs)

    return wrapper


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScaleError(f"{what} must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ScaleError(f"{what} must be finite, not {value!r}")
    return number


def _show(value: object) -> str:
    """A value for an error message, shortened."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _dec(value: float) -> Decimal:
    """A float as the decimal it prints as (Ruby's ``BigDecimal(x.to_s)``)."""
    return Decimal(repr(float(value)))


def _to_float(value: Decimal, what: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ScaleError(f"{what} is out of range")
    return number


def _fmt(value: Decimal) -> str:
    """A decimal without float noise or trailing zeros: "13.5", "7", "0"."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


# -- grading schemes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GradingScheme:
    """A Canvas grading scheme: bands of (name, lower bound as a fraction 0..1), highest first,
    the last at 0. ``points_based`` schemes (and their ``scaling_factor``) change only where a
    letter maps back to a score."""

    bands: tuple[tuple[str, float], ...]
    points_based: bool = False
    scaling_factor: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.bands, tuple) or not self.bands:
            raise ScaleError("a grading scheme needs at least one band, as a tuple")
        seen: set[str] = set()
        previous: float | None = None
        for band in self.bands:
            if not (isinstance(band, tuple) and len(band) == 2):
                raise ScaleError(f"a band is a (name, lower bound) pair, not {band!r}")
            name, lower = band
            if not isinstance(name, str) or not name.strip() or name != name.strip():
                raise ScaleError(f"a band's name must be non-empty text without surrounding spaces: {name!r}")
            if name.casefold() in seen:
                raise ScaleError(f"the band name {name!r} is used twice (letters are matched ignoring case)")
            seen.add(name.casefold())
            value = _finite(lower, f"the lower bound of {name!r}")
            if not 0.0 <= value <= 1.0:
                raise ScaleError(f"the lower bound of {name!r} must be a fraction in [0, 1], not {lower!r}")
            if previous is not None and value >= previous:
                raise ScaleError(f"lower bounds must be strictly descending: {name!r} at {lower!r}")
            previous = value
        if previous != 0.0:
            raise ScaleError(
                "the lowest band's lower bound must be 0 (Canvas: 'must have 0% for the lowest grade')"
            )
        if not isinstance(self.points_based, bool):
            raise ScaleError(f"points_based must be true or false, not {self.points_based!r}")
        factor = _finite(self.scaling_factor, "the scaling factor")
        if factor <= 0 or (not self.points_based and factor != 1.0):
            raise ScaleError(f"the scaling factor must be positive, and 1 unless points-based: {factor!r}")

    @classmethod
    def from_canvas(cls, data: Any) -> GradingScheme:
        """From Canvas's ``grading_scheme`` list (``[{"name": "A", "value": 0.94}, ...]``), a
        whole GradingStandard object (``{"grading_scheme": [...], "points_based": ...,
        "scaling_factor": ...}``), or a GradingStandard's ``data`` pairs (``[["A", 0.94]]``).
        Names are trimmed, values rounded to 4 decimals and sorted highest first, as Canvas
        stores them."""
        points_based: Any = False
        scaling_factor: Any = 1.0
        if isinstance(data, Mapping):
            points_based = data.get("points_based") or False
            scaling_factor = data.get("scaling_factor", 1.0)
            if scaling_factor is None:
                scaling_factor = 1.0
            data = data.get("grading_scheme")
        if isinstance(data, str | bytes) or not isinstance(data, Sequence):
            raise ScaleError(f"a Canvas grading scheme is a list of bands, not {type(data).__name__}")
        bands: list[tuple[str, float]] = []
        for entry in data:
            if isinstance(entry, Mapping):
                name, value = entry.get("name"), entry.get("value")
            elif isinstance(entry, Sequence) and not isinstance(entry, str | bytes) and len(entry) == 2:
                name, value = entry[0], entry[1]
            else:
                raise ScaleError(f"a band is {{'name': ..., 'value': ...}}, not {entry!r}")
            if not isinstance(name, str):
                raise ScaleError(f"a band's name must be text, not {name!r}")
            bands.append((name.strip(), round(_finite(value, f"the value of {name!r}"), 4)))
        bands.sort(key=lambda band: -band[1])
        return cls(tuple(bands), points_based=points_based, scaling_factor=scaling_factor)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.bands)

    @property
    def has_numeric_names(self) -> bool:
        """Whether a grade name looks like a number, so that points posted as a number could be
        read by Canvas as that grade."""
        return any(_NUMERIC_NAME.fullmatch(name) for name in self.names)

    def letter(self, fraction: float) -> str:
        """The band of ``fraction`` of the credit (Canvas's ``score_to_grade``: the highest band
        whose lower bound is at most the fraction; negative counts as 0; no rounding)."""
        return self.letter_of(_finite(fraction, "a fraction"), 1.0)

    @_in_decimal
    def letter_of(self, score: float, maximum: float) -> str:
        """The band of ``score`` out of ``maximum`` (> 0), computed as Canvas's
        ``Assignment#score_to_grade`` does: in decimal, then through a float percentage."""
        if maximum <= 0:
            raise ScaleError("a letter needs a positive maximum")
        percent = _to_float(_dec(score) / _dec(maximum) * _HUNDRED, "the percentage")
        return self._letter_at_percent(_dec(percent))

    def _letter_at_percent(self, percent: Decimal) -> str:
        percent = max(percent, Decimal(0))
        for name, lower in self.bands:
            if percent >= _dec(lower) * _HUNDRED:
                return name
        return self.bands[-1][0]

    @_in_decimal
    def place(self, grade: str) -> int | None:
        """The index of the band named ``grade`` (``place_in_scheme``), or None."""
        key = grade.strip()
        if _NUMERIC_NAME.fullmatch(key):
            number = Decimal(key)
            for index, name in enumerate(self.names):
                if _NUMERIC_NAME.fullmatch(name) and Decimal(name) == number:
                    return index
            return None
        folded = key.casefold()
        for index, name in enumerate(self.names):
            if name.casefold() == folded:
                return index
        if len(key) > 1 and key.endswith(_MINUS_SIGN):
            return self.place(key[:-1] + "-")
        return None

    def _percent_at(self, index: int) -> Decimal:
        """The score (percent) Canvas gives the band at ``index`` (``grade_to_score``)."""
        if index == 0:
            return _HUNDRED
        above = _dec(self.bands[index - 1][1])
        here = _dec(self.bands[index][1])
        if self.points_based:
            factor = _dec(self.scaling_factor)
            return (above * factor - Decimal("0.1")) / factor * _HUNDRED
        step = Decimal(1) if abs(here - above) >= _CENT else Decimal("0.1")
        return above * _HUNDRED - step

    @_in_decimal
    def score_fraction(self, letter: str) -> float:
        """The fraction of credit Canvas gives a posted ``letter`` (case-insensitive): the top
        of its band less a point, e.g. "B" is 0.86 on :data:`DEFAULT`."""
        if not isinstance(letter, str):
            raise ScaleError(f"a letter is text, not {letter!r}")
        index = self.place(letter)
        if index is None:
            raise ScaleError(f"{letter!r} is not a grade of the scheme {', '.join(self.names)}")
        return float(self._percent_at(index) / _HUNDRED)


#: Canvas's default letter scheme (``GradingStandard.default_grading_scheme``).
DEFAULT = GradingScheme(
    bands=(
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
)


# -- scales and grades -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """How one platform object grades: a Canvas assignment (its grading type, points possible
    and grading scheme), or an Edu Vault assessment with its maximum (``points``)."""

    grading_type: str
    points_possible: float
    scheme: GradingScheme | None = None

    def __post_init__(self) -> None:
        if self.grading_type not in GRADING_TYPES:
            raise ScaleError(
                f"unknown grading type {self.grading_type!r} (one of {', '.join(GRADING_TYPES)})"
            )
        if _finite(self.points_possible, "points possible") < 0:
            raise ScaleError(f"points possible must be zero or more, not {self.points_possible!r}")
        if self.scheme is not None and not isinstance(self.scheme, GradingScheme):
            raise ScaleError(f"a scale's scheme is a GradingScheme, not {self.scheme!r}")

    @property
    def effective_scheme(self) -> GradingScheme:
        """The scheme Canvas would use: this one, else Canvas's default."""
        return self.scheme if self.scheme is not None else DEFAULT

    @property
    def uses_scheme(self) -> bool:
        return self.grading_type in SCHEME_TYPES

    def describe(self) -> str:
        return f"a {self.grading_type} scale out of {_fmt(_dec(self.points_possible))} points"


@dataclass(frozen=True)
class Grade:
    """The canonical value: ``score`` points out of ``maximum`` (None: no grade), and the grade
    text as the platform shows it."""

    score: float | None
    maximum: float
    text: str = ""

    def __post_init__(self) -> None:
        if self.score is not None:
            _finite(self.score, "a score")
        if _finite(self.maximum, "a maximum") < 0:
            raise ScaleError(f"a maximum must be zero or more, not {self.maximum!r}")
        if not isinstance(self.text, str):
            raise ScaleError(f"a grade's text must be text, not {self.text!r}")


@_in_decimal
def fraction(grade: Grade) -> float | None:
    """The fraction of credit (score / maximum); None without a score or a maximum."""
    if grade.score is None or grade.maximum == 0:
        return None
    return _to_float(_dec(grade.score) / _dec(grade.maximum), "the fraction")


@_in_decimal
def rescale(grade: Grade, maximum: float) -> Grade:
    """The same fraction of credit out of ``maximum`` (the text, which belonged to the old
    scale, is dropped)."""
    new_maximum = _finite(maximum, "a maximum")
    if grade.score is None:
        return Grade(None, new_maximum)
    if grade.maximum == 0:
        raise ScaleError(f"{grade.score!r} out of 0 is no fraction of credit to rescale")
    score = _dec(grade.score) * _dec(new_maximum) / _dec(grade.maximum)
    return Grade(_to_float(score, "the rescaled score"), new_maximum)


# -- reading -----------------------------------------------------------------------------------


def _display(score: float, scale: Scale, given: str | None) -> str:
    """What Canvas shows for ``score`` (``Assignment#score_to_grade``)."""
    possible = scale.points_possible
    kind = scale.grading_type
    if kind == "points":
        return _fmt(_dec(score))
    if kind == "percent":
        if possible > 0:
            percent = (_dec(score) / _dec(possible) * _HUNDRED).quantize(_CENT, ROUND_HALF_UP)
        else:
            percent = _dec(score)
        return f"{_fmt(percent)}%"
    if kind == "pass_fail":
        passed = score > 0 if possible > 0 else given is not None and given.casefold() in _FULL_CREDIT
        return "complete" if passed else "incomplete"
    if kind in SCHEME_TYPES:
        scheme = scale.effective_scheme
        if possible > 0:
            return scheme.letter_of(score, possible)
        if given is not None:
            index = scheme.place(given)
            return scheme.names[index] if index is not None else given
        return scheme._letter_at_percent(_dec(score))
    return ""


def _interpret(text: str, scale: Scale) -> float | None:
    """Canvas's ``interpret_grade``: points for ``text``, or None when it is no grade."""
    possible = _dec(scale.points_possible)
    scheme = scale.effective_scheme
    if text.endswith("%") and _NUMBER.fullmatch(text, 0, len(text) - 1):
        return _to_float(possible * Decimal(text[:-1]) / _HUNDRED, "the percentage")
    if _NUMBER.fullmatch(text):
        index = scheme.place(text) if scale.uses_scheme else None
        if index is not None:
            return _to_float(possible * scheme._percent_at(index) / _HUNDRED, "the score")
        return _to_float(Decimal(text), "the number")
    if text in _FULL_CREDIT:
        return float(scale.points_possible)
    if text in _NO_CREDIT:
        return 0.0
    if scale.uses_scheme:
        index = scheme.place(text)
        if index is not None:
            return _to_float(possible * scheme._percent_at(index) / _HUNDRED, "the score")
    # Lenient beyond Canvas, only where Canvas would find no grade: "Pass", "COMPLETE".
    if text.casefold() in _FULL_CREDIT:
        return float(scale.points_possible)
    if text.casefold() in _NO_CREDIT:
        return 0.0
    return None


@_in_decimal
def read(posted: str | float | None, scale: Scale) -> Grade:
    """Interpret a grade a platform reports, or a person typed, on ``scale``, as Canvas's
    ``grade_to_score`` does: "13.5" points, "40%" of points possible, a letter of the scheme
    ("A-", case-insensitive), "pass"/"complete"/"fail"/"incomplete"; empty or None is no
    grade. A number (not text) is a score in points, as platforms report scores. Raises
    :class:`ScaleError`, naming the value and the scale, for what is no grade on the scale."""
    possible = float(scale.points_possible)
    if posted is None:
        return Grade(None, possible)
    if isinstance(posted, bool) or not isinstance(posted, str | int | float):
        raise ScaleError(f"{_show(posted)} is not a grade on {scale.describe()}: a grade is text or a number")
    if isinstance(posted, int | float):
        if not math.isfinite(posted):
            raise ScaleError(f"{_show(posted)} is not a grade on {scale.describe()}: not a finite number")
        score = float(posted)
        if scale.grading_type == "not_graded":
            return Grade(None, possible)
        return Grade(score, possible, _display(score, scale, None))
    text = posted.strip()
    if not text or scale.grading_type == "not_graded":
        return Grade(None, possible)
    try:
        parsed = _interpret(text, scale)
    except ScaleError as exc:
        raise ScaleError(f"{_show(posted)} is not a grade on {scale.describe()}: {exc}") from None
    except (DecimalException, OverflowError):
        raise ScaleError(f"{_show(posted)} is not a grade on {scale.describe()}: out of range") from None
    if parsed is None:
        hint = f" (grades: {', '.join(scale.effective_scheme.names)})" if scale.uses_scheme else ""
        raise ScaleError(f"{_show(posted)} is not a grade on {scale.describe()}{hint}")
    if scale.grading_type == "pass_fail" and parsed not in (possible, 0.0):
        raise ScaleError(
            f"{_show(posted)} is not a grade on {scale.describe()}: pass/fail takes full points or none"
        )
    return Grade(parsed, possible, _display(parsed, scale, text))


# -- posting -----------------------------------------------------------------------------------


def _first_in_band(
    candidates: Sequence[Decimal], letter_at: Callable[[Decimal], str], letter: str
) -> Decimal | None:
    for candidate in candidates:
        if letter_at(candidate) == letter:
            return candidate
    return None


@_in_decimal
def posted_grade(grade: Grade, target: Scale) -> str | None:
    """What to send Canvas as ``submission[posted_grade]`` so that ``target`` ends with the
    same fraction of credit as ``grade``; None when there is nothing to write (no score, or a
    not_graded target).

    * points: the rescaled score, rounded half-up to 2 decimals ("13.5", "7");
    * percent: "NN%", the percentage to 2 decimals;
    * letter_grade and gpa_scale: *not* the letter, which Canvas would turn into the top of its
      band (a 91% sent as "A-" would come back as 93%), but the points, which Canvas keeps and
      shows as the same letter. Of the 2-decimal roundings (half-up, down, up), the first that
      stays in the letter's band is sent. When the scheme names grades with numbers ("4.0"),
      a number could be read as such a grade, so a percentage (6 decimals) is sent instead;
      the only form Canvas reads before grade names. With zero points possible the letter
      itself is sent (Canvas keeps the given grade then);
    * pass_fail: "complete" when the score is above zero, as Canvas shows such a score, else
      "incomplete" (Canvas gives full points or none).

    Raises :class:`ScaleError` when no fraction can be carried: a source out of 0, or a points
    or percent target with zero points possible."""
    kind = target.grading_type
    if kind == "not_graded" or grade.score is None:
        return None
    if kind == "pass_fail":
        return "complete" if grade.score > 0 else "incomplete"
    if grade.maximum == 0:
        raise ScaleError(f"{grade.score!r} out of 0 is no fraction of credit to carry to {target.describe()}")
    possible = target.points_possible
    scheme = target.effective_scheme
    if possible == 0:
        if kind in SCHEME_TYPES:
            return scheme.letter_of(grade.score, grade.maximum)
        raise ScaleError(f"no fraction of credit can be carried to {target.describe()}")
    exact = _dec(grade.score) * _dec(possible) / _dec(grade.maximum)
    if kind == "points":
        return _fmt(exact.quantize(_CENT, ROUND_HALF_UP))
    if kind == "percent":
        percent = (_dec(grade.score) / _dec(grade.maximum) * _HUNDRED).quantize(_CENT, ROUND_HALF_UP)
        return f"{_fmt(percent)}%"
    letter = scheme.letter_of(grade.score, grade.maximum)

    def letter_at(points: Decimal) -> str:
        return scheme.letter_of(float(points), possible)

    roundings = [exact.quantize(_CENT, rounding) for rounding in (ROUND_HALF_UP, ROUND_FLOOR, ROUND_CEILING)]
    points = _first_in_band(roundings, letter_at, letter) or roundings[0]
    if not scheme.has_numeric_names:
        return _fmt(points)

    def letter_of_percent(percent: Decimal) -> str:
        return scheme.letter_of(float(_dec(possible) * percent / _HUNDRED), possible)

    exact_percent = points / _dec(possible) * _HUNDRED
    percents = [
        exact_percent.quantize(_FINE, rounding) for rounding in (ROUND_HALF_UP, ROUND_FLOOR, ROUND_CEILING)
    ]
    percent = _first_in_band(percents, letter_of_percent, letter) or percents[0]
    return f"{_fmt(percent)}%"


@_in_decimal
def same_credit(a: Grade, b: Grade, *, places: int = 4, on: Scale | None = None) -> bool:
    """Whether ``a`` and ``b`` give the same credit, so that a platform holding ``b`` need not
    be sent ``a``. Two grades without a score are the same; a grade and no grade are not.

    With ``on`` (the scale of the platform that would be written), they are the same when
    :func:`posted_grade` would send the same thing for both: this compares at that scale's
    resolution (2 decimals of points, a percentage, a band, pass or fail), so a value read
    back after posting always counts as already there, and no write loop can start. Without
    ``on``, their fractions must agree within ``10 ** -places`` (scores, when both are out of
    0)."""
    if a.score is None or b.score is None:
        return a.score is None and b.score is None
    if on is not None:
        try:
            return posted_grade(a, on) == posted_grade(b, on)
        except ScaleError:
            pass
    tolerance = 10.0**-places + 1e-12
    fa, fb = fraction(a), fraction(b)
    if fa is None or fb is None:
        return fa is None and fb is None and abs(a.score - b.score) <= tolerance
    return abs(fa - fb) <= tolerance
