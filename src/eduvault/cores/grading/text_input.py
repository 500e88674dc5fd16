"""``text_input``: a short typed answer, compared with accepted values or regexes.

The learner's answer and each accepted ``value`` are normalised alike: Unicode NFC, outer
whitespace stripped, runs of whitespace collapsed to one space, and case folded unless the
question is ``case_sensitive``. A ``regex`` must match the whole normalised answer
(ignoring case unless ``case_sensitive``), and is run by RE2 in time linear in the answer
(see :mod:`eduvault.cores.grading.patterns`). The helpers here are reused by the text blanks of
``fill_blanks``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, Field

from eduvault.cores.grading.base import Grade, Grader, Spec, register
from eduvault.cores.grading.fields import answer_string
from eduvault.cores.grading.patterns import (
    MAX_QUESTION_PROGRAM_SIZE,
    PatternRefused,
    check_pattern,
    fullmatch,
    program_size,
)
from eduvault.kernel.errors import InvalidQuestion

#: The longest answer accepted.
MAX_ANSWER_LENGTH = 1000
MAX_PATTERN_LENGTH = 500


def _check_regex(pattern: str) -> str:
    try:
        return check_pattern(pattern)
    except PatternRefused as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None


Pattern = Annotated[str, Field(min_length=1, max_length=MAX_PATTERN_LENGTH), AfterValidator(_check_regex)]
Value = Annotated[str, Field(min_length=1, max_length=MAX_ANSWER_LENGTH)]


class TextAnswer(Spec):
    """An accepted answer: a ``value`` or a ``regex`` (exactly one of the two)."""

    value: Value | None = None
    regex: Pattern | None = Field(None, description="Must match the whole normalised answer.")


class WrongAnswer(TextAnswer):
    """A foreseen wrong answer and the feedback it gets."""

    feedback: Annotated[str, Field(min_length=1, max_length=5000)]


class TextFields(Protocol):
    """The fields of a text answer (a text_input question, or a text blank)."""

    @property
    def answers(self) -> Sequence[TextAnswer] | None: ...
    @property
    def case_sensitive(self) -> bool | None: ...
    @property
    def wrong_answers(self) -> Sequence[WrongAnswer] | None: ...


class TextInputBody(Spec):
    answers: Annotated[list[TextAnswer], Field(min_length=1, max_length=50)]
    case_sensitive: bool = False
    wrong_answers: Annotated[list[WrongAnswer], Field(max_length=50)] = []


def collapse(text: str) -> str:
    """NFC, stripped, whitespace runs collapsed to one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def normalize(text: str, case_sensitive: bool) -> str:
    """The form in which answers and accepted values are compared."""
    text = collapse(text)
    return text if case_sensitive else text.casefold()


def matches(entry: TextAnswer, answer: str, case_sensitive: bool) -> bool:
    """Whether ``answer`` (as typed) matches the accepted ``entry``."""
    if entry.value is not None:
        return normalize(entry.value, case_sensitive) == normalize(answer, case_sensitive)
    if entry.regex is not None:
        try:
            return fullmatch(entry.regex, collapse(answer), case_sensitive)
        except PatternRefused as exc:  # stored before patterns were checked with RE2
            raise InvalidQuestion(
                f"this question cannot be graded: {exc}; an instructor must edit it"
            ) from None
    return False


def text_problems(spec: TextFields, prefix: str = "") -> list[str]:
    """Cross-field problems of text fields; ``prefix`` is the path to them (``blanks[0].``)."""
    problems = []
    for name in ("answers", "wrong_answers"):
        for i, entry in enumerate(getattr(spec, name) or ()):
            path = f"{prefix}{name}[{i}]"
            if (entry.value is None) == (entry.regex is None):
                problems.append(f"{path}: give exactly one of value or regex")
            elif entry.value is not None and not collapse(entry.value):
                problems.append(f"{path}.value: must not be blank")
    answers = spec.answers or ()
    if answers and not any(a.value is not None for a in answers):
        problems.append(
            f"{prefix}answers: give at least one plain value (it is the solution shown to learners; "
            "a regex cannot be)"
        )
    return problems


def patterns_of(spec: TextFields) -> list[str]:
    """Every regex of these text fields."""
    entries = [*(spec.answers or ()), *(spec.wrong_answers or ())]
    return [e.regex for e in entries if e.regex is not None]


def pattern_budget_problems(patterns: Iterable[str], where: str) -> list[str]:
    """A problem if the patterns of one question compile, together, to more than the budget
    that keeps grading fast (each pattern was checked on its own already)."""
    size = program_size(patterns)
    if size <= MAX_QUESTION_PROGRAM_SIZE:
        return []
    return [
        f"{where}: the regexes of this question compile to {size:,} instructions together, "
        f"at most {MAX_QUESTION_PROGRAM_SIZE:,} are allowed (use fewer or simpler patterns)"
    ]


def text_grade(spec: TextFields, answer: str) -> tuple[bool, str]:
    """``(right, feedback)`` for ``answer``: feedback is that of a matching wrong answer."""
    case_sensitive = bool(spec.case_sensitive)
    if any(matches(entry, answer, case_sensitive) for entry in spec.answers or ()):
        return True, ""
    for wrong in spec.wrong_answers or ():
        if matches(wrong, answer, case_sensitive):
            return False, wrong.feedback
    return False, ""


def text_solution(spec: TextFields) -> str:
    """A right answer: the first accepted value."""
    return next((a.value for a in spec.answers or () if a.value is not None), "")


def check_text(answer: Any, what: str = "the answer") -> str:
    """``answer`` if it is a string of at most :data:`MAX_ANSWER_LENGTH` characters."""
    return answer_string(answer, what, max_length=MAX_ANSWER_LENGTH)


@register
class TextInputGrader(Grader[TextInputBody]):
    type = "text_input"
    Body = TextInputBody
    answer_schema = {"type": "string", "description": "The text typed."}
    answer_example = "photosynthesis"

    def validate(self, body: TextInputBody) -> list[str]:
        return text_problems(body) + pattern_budget_problems(patterns_of(body), "answers")

    def check_answer(self, body: TextInputBody, answer: Any) -> str:
        return check_text(answer)

    def grade(self, body: TextInputBody, answer: str) -> Grade:
        right, feedback = text_grade(body, answer)
        return Grade(score=1.0 if right else 0.0, correct=right, feedback=feedback)

    def solution(self, body: TextInputBody) -> str:
        return text_solution(body)
