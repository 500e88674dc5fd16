"""Shared helpers of the grading tests."""

from __future__ import annotations

from typing import Any

import pytest

from eduvault.cores.grading import Question, grade_try, parse_question
from eduvault.kernel.errors import InvalidAnswer, InvalidQuestion

#: Keys that must never appear anywhere in what a learner is shown of a question.
SECRET_KEYS = frozenset(
    {
        "correct",
        "credit",
        "fraction",
        "feedback",
        "explanation",
        "hints",
        "answers",
        "answer",
        "wrong_answers",
        "value",
        "range",
        "absolute_tolerance",
        "relative_tolerance",
        "pairs",
        "regex",
        "case_sensitive",
        "scoring",
        "penalty",
    }
)


def question(type_name: str, prompt: str = "Answer this.", **fields: Any) -> Question:
    return parse_question({"type": type_name, "prompt": prompt, **fields})


def assert_grades(q: Question, answer: Any, score: float, correct: bool) -> None:
    result = grade_try(q, answer, try_number=1)
    assert result.raw_score == pytest.approx(score), answer
    assert result.score == pytest.approx(score), answer
    assert result.correct is correct, answer


def assert_invalid_answer(q: Question, answer: Any, *fragments: str) -> None:
    with pytest.raises(InvalidAnswer) as info:
        grade_try(q, answer, try_number=1)
    for fragment in fragments:
        assert fragment in info.value.detail, (answer, info.value.detail)


def problems_of(document: Any) -> list[str]:
    with pytest.raises(InvalidQuestion) as info:
        parse_question(document)
    return info.value.problems


def keys_of(value: Any) -> set[str]:
    """Every key of every object nested in ``value``."""
    if isinstance(value, dict):
        keys = set(value)
        for v in value.values():
            keys |= keys_of(v)
        return keys
    if isinstance(value, list | tuple):
        return set().union(*(keys_of(v) for v in value)) if value else set()
    return set()
