"""Author patterns run on RE2: no pattern and no answer can make grading take long."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduvault.cores.grading import grade_try
from eduvault.cores.grading.patterns import (
    MAX_PROGRAM_SIZE,
    MAX_QUESTION_PROGRAM_SIZE,
    PatternRefused,
    check_pattern,
    fullmatch,
)
from eduvault.cores.grading.text_input import MAX_ANSWER_LENGTH
from eduvault.kernel.errors import InvalidQuestion

from .helpers import problems_of, question

#: Patterns that take Python's backtracking matcher exponential time on a near miss.
CATASTROPHIC = [r"(a+)+$", r"(a|a)*b", r"(a|aa)+$", r"(\w+\s?)+$", r"(.*a){12}", r"((a*)*)*c"]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_grade_at_once(pattern):
    q = question("text_input", answers=[{"value": "a"}, {"regex": pattern}])
    answer = "a" * (MAX_ANSWER_LENGTH - 1) + "!"
    started = time.perf_counter()
    result = grade_try(q, answer, try_number=1)
    # Python's re would not finish this in the lifetime of the machine; RE2 takes microseconds.
    # (The generous bound only guards against a return to a backtracking matcher.)
    assert time.perf_counter() - started < 1.0
    assert result.correct is False


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "backreferences are not supported"),
        (r"(?=a)a", "lookaround is not supported"),
        (r"(?<!x)a", "lookaround is not supported"),
        (r"(?>a+)", "atomic groups are not supported"),
        (r"a++", "possessive quantifiers are not supported"),
        (r"a\Z", r"write \z for the end of the text"),
        (r"(a", "missing )"),
    ],
)
def test_constructs_re2_cannot_run_are_refused_naming_the_pattern(pattern, reason):
    problems = problems_of(
        {"type": "text_input", "prompt": "P", "answers": [{"value": "a"}, {"regex": pattern}]}
    )
    assert len(problems) == 1, problems
    assert problems[0].startswith("answers[1].regex: not a valid regular expression: ")
    assert repr(pattern) in problems[0]
    assert reason in problems[0]


def test_a_pattern_that_compiles_too_large_is_refused():
    pattern = "(" + "[a-z]{1,90}" * 5 + ")"
    with pytest.raises(PatternRefused, match="too complex"):
        check_pattern(pattern)
    problems = problems_of(
        {"type": "text_input", "prompt": "P", "answers": [{"value": "a"}, {"regex": pattern}]}
    )
    assert f"at most {MAX_PROGRAM_SIZE:,} are allowed" in problems[0]


def test_the_patterns_of_one_question_share_a_budget():
    pattern = "[a-z]{1,90}[0-9]{1,90}"  # each within the limit on its own
    blanks = [
        {"id": f"b{i}", "answers": [{"value": "x"}, *[{"regex": pattern + "x" * j} for j in range(10)]]}
        for i in range(20)
    ]
    prompt = " ".join(f"[[b{i}]]" for i in range(20))
    problems = problems_of({"type": "fill_blanks", "prompt": prompt, "blanks": blanks})
    assert any(f"at most {MAX_QUESTION_PROGRAM_SIZE:,} are allowed" in p for p in problems), problems


def test_a_stored_pattern_re2_refuses_fails_grading_with_the_reason():
    """A question saved before patterns were checked with RE2 (a backreference, say) is not
    graded as wrong for ever: grading says why, naming the pattern."""
    q = question("text_input", answers=[{"value": "aa"}, {"regex": "a+"}])
    legacy = q.body.model_copy(
        update={"answers": [*q.body.answers, q.body.answers[1].model_copy(update={"regex": r"(a)\1"})]}
    )
    q = type(q)(**{**q.__dict__, "body": legacy})
    with pytest.raises(InvalidQuestion, match=re.escape(r"'(a)\\1'")):
        grade_try(q, "b", try_number=1)


# Patterns both engines read alike: literals, classes, groups, alternation, repetition.
ATOM = st.sampled_from(["a", "b", "ab", "[ab]", "[^a]", ".", r"\d", "x"])


@st.composite
def patterns(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 2 and draw(st.booleans()):
            inner = draw(patterns(depth + 1))
            if draw(st.booleans()):
                inner += "|" + draw(patterns(depth + 1))
            atom = f"({inner})"
        else:
            atom = draw(ATOM)
        parts.append(atom + draw(st.sampled_from(["", "*", "+", "?", "{1,2}"])))
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(patterns(), st.text(alphabet="abx1!", max_size=8), st.booleans())
def test_re2_agrees_with_python_on_ordinary_patterns(pattern, text, case_sensitive):
    expected = re.fullmatch(pattern, text, 0 if case_sensitive else re.IGNORECASE) is not None
    assert fullmatch(check_pattern(pattern), text, case_sensitive) is expected
