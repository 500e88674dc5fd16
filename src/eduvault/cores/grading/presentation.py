"""What a learner sees of a question, and the solution shown after it.

:func:`present` gives the learner-safe view: never a correct flag, a credit, a fraction, a
feedback text, the explanation, hints, answers, ranges, tolerances, pairs or regexes. The
order of choices, items and options is drawn from the attempt's ``seed`` and the
question's id, so the same attempt shows the same order in any process.
"""

from __future__ import annotations

import random
from typing import Any

from eduvault.cores.grading.base import seeded_rng
from eduvault.cores.grading.questions import Question


def question_rng(question: Question, seed: str) -> random.Random:
    """The random generator of ``question`` within the attempt seeded with ``seed``."""
    return seeded_rng(f"{seed}:{question.id}")


def present(question: Question, *, seed: str, shuffle: bool) -> dict[str, Any]:
    """The learner-safe view: ``{"id", "type", "prompt", "points", ...the type's view}``."""
    view: dict[str, Any] = {
        "id": question.id,
        "type": question.type,
        "prompt": question.prompt,
        "points": question.points,
    }
    extra = question.grader.present(question.body, question_rng(question, seed), shuffle)
    clashes = set(extra) & set(view)
    if clashes:
        raise ValueError(f"the {question.type} grader's view redefines {', '.join(sorted(clashes))}")
    view.update(extra)
    return view


def solution(question: Question) -> Any:
    """A correct answer to ``question``, in the answer format."""
    return question.grader.solution(question.body)
