"""Grading a try and what the learner is shown after it (immediate feedback).

A question's ``penalty`` is the fraction of full credit deducted for each try after the
first: the score of try ``n`` is ``max(0, raw_score - penalty * (n - 1))``. After each wrong
answer one more hint is shown; the explanation is shown once the question is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eduvault.cores.grading.questions import Question

#: Scores are rounded to this many decimals (so 1 - 3 * 0.1 is 0.7).
SCORE_DECIMALS = 10


@dataclass(frozen=True)
class TryResult:
    """The outcome of one try: ``score`` after the penalty, ``raw_score`` before it."""

    score: float
    raw_score: float
    correct: bool
    feedback: str
    parts: dict[str, bool] | None
    try_number: int


def grade_try(question: Question, answer: Any, *, try_number: int) -> TryResult:
    """Check ``answer`` (InvalidAnswer propagates), grade it and apply the penalty of the try."""
    if try_number < 1:
        raise ValueError(f"tries are numbered from 1, got {try_number}")
    grader = question.grader
    grade = grader.grade(question.body, grader.check_answer(question.body, answer))
    # Both rounded alike, so that the penalised score never exceeds the raw one by a rounding.
    raw = round(grade.score, SCORE_DECIMALS)
    score = min(raw, max(0.0, round(raw - question.penalty * (try_number - 1), SCORE_DECIMALS)))
    return TryResult(
        score=score,
        raw_score=raw,
        correct=grade.correct,
        feedback=grade.feedback,
        parts=grade.parts,
        try_number=try_number,
    )


def reveal(question: Question, result: TryResult, *, wrong_tries: int, final: bool) -> dict[str, Any]:
    """What the learner is shown after a try.

    ``wrong_tries`` is the number of wrong answers so far (one hint is shown for each);
    ``final`` means the question is over (answered correctly, or no tries left).
    """
    return {
        "correct": result.correct,
        "score": result.score,
        "feedback": result.feedback,
        "hints": list(question.hints[: max(0, wrong_tries)]),
        "explanation": question.explanation if final else None,
    }
